"""Shared test set-up: build the guest programs once per test session."""

import pytest

import guestrun


def pytest_configure(config):
    config.addinivalue_line("markers", "qemu: runs a guest program on QEMU (the reference)")
    config.addinivalue_line("markers", "discovm: runs a guest program on discovm")


@pytest.fixture(scope="session")
def guest_build():
    """Build guests/ (``make -C guests``, quick when up to date).  Yields None, or
    the build's error output, which the guest tests then report as their failure."""
    return guestrun.build_guests()
