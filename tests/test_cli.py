"""The ``discovm run`` command: console, exit status, limits, bad input, statistics."""

import json
import os

import pytest

from asmutil import assemble, discovm

HELLO = """
    .set noreorder
    .globl _start
_start:
    la $a0, msg
    li $a1, 42
    j puts_and_exit
    nop
    .data
msg: .asciz "hello\\n"
"""

SPIN = """
    .set noreorder
    .globl _start
_start:
    b _start
    nop
"""


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    return {"hello": assemble(HELLO, d / "hello.elf"), "spin": assemble(SPIN, d / "spin.elf"),
            "dir": d}


def test_console_and_exit_status(progs):
    p = discovm("run", "--kernel", progs["hello"])
    assert p.stdout == "hello\n"
    assert p.returncode == 42


def test_stats_file_counts_instructions(progs):
    stats = progs["dir"] / "stats.json"
    p = discovm("run", "--kernel", progs["hello"], "--stats", stats)
    assert p.returncode == 42
    data = json.loads(stats.read_text())
    # la (2) + li + j + nop, then the print loop: 6 characters x 5 instructions + the
    # final check (lbu, beqz, delay slot) + ori, sw: counted by hand from the listing.
    assert data["instructions"] == 5 + 6 * 5 + 3 + 2
    assert data["uart"]["tx_bytes"] == 6
    assert data["device_accesses"] == 7


def test_runaway_guest_stops_with_message(progs):
    p = discovm("run", "--kernel", progs["spin"], "--max-instructions", "100000")
    assert p.returncode == 124
    assert "100000 instructions" in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("content,words", [
    (b"", "not a valid ELF"),
    (b"\x7fELF garbage" + bytes(100), "ELF"),
    (b"#!/bin/sh\necho hi\n", "not a valid ELF"),
])
def test_bad_elf_gives_one_line_error(progs, content, words):
    bad = progs["dir"] / "bad.elf"
    bad.write_bytes(content)
    p = discovm("run", "--kernel", bad)
    assert p.returncode == 2
    assert words in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def test_missing_file_and_wrong_architecture(progs):
    p = discovm("run", "--kernel", progs["dir"] / "nonexistent.elf")
    assert p.returncode == 2 and "cannot open" in p.stderr
    p = discovm("run", "--kernel", "/bin/true")      # an x86-64 (or host) ELF
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_segment_outside_ram_is_rejected(progs):
    p = discovm("run", "--kernel", progs["hello"], "--mem", "1M")
    assert p.returncode == 2
    assert "not in RAM" in p.stderr


def test_runs_without_jit(progs):
    """The same engine runs as plain Python (slowly) for debugging."""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    p = discovm("run", "--kernel", progs["hello"], env=env)
    assert p.stdout == "hello\n"
    assert p.returncode == 42
