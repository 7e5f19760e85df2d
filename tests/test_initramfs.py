"""The initramfs writer (pure Python newc cpio) and the Debian files it packs.

Tests that need Debian's packages use the project cache (``python -m
discovm.guests.debian`` fills it) and are skipped when it is empty; they never fetch."""

import gzip
import shutil
import stat
import subprocess

import pytest

from discovm.guests import debian, initramfs
from discovm.guests.initramfs import CpioWriter, parse


def _cached():
    files = debian._load(debian.default_cache_dir() / "debian")
    return files


needs_debian = pytest.mark.skipif(_cached() is None,
                                  reason="Debian files not in cache (python -m discovm.guests.debian)")
needs_qemu_user = pytest.mark.skipif(shutil.which("qemu-mipsel-static") is None,
                                     reason="qemu-mipsel-static not installed (qemu-user-static)")


@pytest.fixture
def fake(tmp_path):
    bb = tmp_path / "busybox"
    bb.write_bytes(b"\x7fELF fake busybox" * 3)
    mods = []
    for name in ("virtio.ko", "virtio_ring.ko", "virtio_mmio.ko"):
        (tmp_path / name).write_bytes(name.encode() * 5)
        mods.append(tmp_path / name)
    return bb, mods


def test_roundtrip(fake):
    bb, mods = fake
    data = initramfs.build(bb, mods, "6.1.0-50-mips32r2el", cmd="echo hi\nexit 3")
    assert data[:2] == b"\x1f\x8b"
    entries = {e.name: e for e in parse(data)}

    init = entries["init"]
    assert stat.S_ISREG(init.mode) and init.mode & 0o777 == 0o755
    assert init.data.startswith(b"#!/bin/sh\n")
    assert b"devmem 0x1F001000 32" in init.data          # syscon power-off with status
    assert entries["bin/busybox"].data == bb.read_bytes()
    assert entries["bin/busybox"].mode & 0o111
    assert entries["bin/sh"].is_symlink and entries["bin/sh"].target == "busybox"
    console = entries["dev/console"]
    assert stat.S_ISCHR(console.mode) and console.rdev == (5, 1)
    for d in ("dev", "proc", "sys", "tmp", "lib/modules", "lib/modules/6.1.0-50-mips32r2el"):
        assert entries[d].is_dir, d
    assert entries["etc/modules"].data.decode().split() == [
        "6.1.0-50-mips32r2el/virtio.ko", "6.1.0-50-mips32r2el/virtio_ring.ko",
        "6.1.0-50-mips32r2el/virtio_mmio.ko"]
    ko = entries["lib/modules/6.1.0-50-mips32r2el/virtio_mmio.ko"]
    assert ko.data == mods[2].read_bytes() and ko.mode & 0o777 == 0o644
    assert entries["cmd"].data == b"echo hi\nexit 3\n"
    # parents come before children, inodes are unique
    names = [e.name for e in parse(data)]
    assert names.index("lib") < names.index("lib/modules") < names.index(
        "lib/modules/6.1.0-50-mips32r2el/virtio.ko")
    assert len({e.ino for e in entries.values()}) == len(entries)


def test_no_cmd_means_shell(fake):
    bb, _ = fake
    entries = {e.name for e in parse(initramfs.build(bb))}
    assert "cmd" not in entries and "init" in entries


def test_deterministic(fake):
    bb, mods = fake
    assert initramfs.build(bb, mods, "r", cmd="true") == initramfs.build(bb, mods, "r", cmd="true")


def test_writer_alignment_and_trailer():
    w = CpioWriter()
    w.add_file("a/b/c.txt", b"xyz")          # 3 bytes: data padded to 4
    w.add_symlink("a/l", "b/c.txt")
    raw = w.getvalue()
    assert len(raw) % 512 == 0
    assert b"TRAILER!!!\0" in raw
    names = [e.name for e in parse(raw)]
    assert names == ["a", "a/b", "a/b/c.txt", "a/l"]
    with pytest.raises(ValueError):
        w2 = CpioWriter()
        w2.add_file("x", b"")
        w2.add_file("x", b"")


@pytest.mark.skipif(shutil.which("cpio") is None, reason="cpio not installed")
def test_gnu_cpio_reads_it(fake, tmp_path):
    bb, mods = fake
    raw = gzip.decompress(initramfs.build(bb, mods, "r", cmd="true"))
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=raw, capture_output=True,
                             check=True).stdout.decode().split()
    assert {"init", "bin/busybox", "bin/sh", "dev/console", "r/virtio.ko"} - set(listing) \
        == {"r/virtio.ko"}                   # modules are under lib/modules/r
    assert "lib/modules/r/virtio.ko" in listing
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["cpio", "-id", "--quiet", "--no-absolute-filenames"], input=raw,
                   cwd=out, check=True, capture_output=True)
    assert (out / "bin/sh").is_symlink() and (out / "bin/sh").readlink().name == "busybox"
    assert (out / "bin/busybox").read_bytes() == bb.read_bytes()


def test_newest_kernel():
    names = ["linux-image-mips32r2el", "linux-image-6.1.0-47-mips32r2el",
             "linux-image-6.1.0-50-mips32r2el", "linux-image-6.1.0-9-mips32r2el",
             "linux-image-6.1.0-50-4kc-malta", "linux-image-6.1.0-50-mips32r2el-dbg"]
    assert debian.newest_kernel(names) == "linux-image-6.1.0-50-mips32r2el"
    with pytest.raises(debian.DebianFetchError):
        debian.newest_kernel(["linux-image-6.1.0-50-4kc-malta"])


def test_apt_failure_is_one_line(tmp_path):
    with pytest.raises(debian.DebianFetchError) as e:
        debian._run(["sh", "-c", "echo 'E: Failed to fetch x' >&2; exit 100"], "apt-get update")
    assert str(e.value) == "apt-get update failed: E: Failed to fetch x"
    with pytest.raises(debian.DebianFetchError, match="not found"):
        debian._run(["/nonexistent/apt-get"], "apt-get update")


@needs_debian
def test_fetch_is_idempotent(monkeypatch):
    def no_commands(*a, **k):
        raise AssertionError("fetch() ran a command although everything is cached")
    monkeypatch.setattr(debian.subprocess, "run", no_commands)
    files = debian.fetch()
    assert files.kernel.is_file() and files.busybox.is_file()
    assert files.kernel_release.endswith("-mips32r2el")


@needs_debian
def test_modules_in_dependency_order():
    files = _cached()
    order = [m.name for m in files.modules]
    for dep, mod in [("virtio", "virtio_mmio"), ("virtio_ring", "virtio_mmio"),
                     ("virtio", "virtio_blk"), ("net_failover", "virtio_net"),
                     ("jbd2", "ext4"), ("mbcache", "ext4"), ("crc16", "ext4"),
                     ("crc32c_generic", "ext4")]:          # ext4's softdep crypto-crc32c
        assert order.index(dep) < order.index(mod), (dep, mod)
    assert all(p.is_file() for p in files.module_paths())
    cfg = debian.config_options(files, r"^CONFIG_(VIRTIO_MMIO|EXT4_FS|MIPS_GENERIC)$")
    assert cfg == {"CONFIG_VIRTIO_MMIO": "m", "CONFIG_EXT4_FS": "m", "CONFIG_MIPS_GENERIC": "y"}


@needs_debian
@needs_qemu_user
def test_busybox_runs_and_init_parses(tmp_path):
    files = _cached()
    qemu = ["qemu-mipsel-static", str(files.busybox)]
    r = subprocess.run(qemu + ["echo", "hello mips"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "hello mips\n"
    assert subprocess.run(qemu + ["sh", "-c", "exit 7"]).returncode == 7
    # The real shell accepts our /init script (syntax check only: -n).
    init = tmp_path / "init"
    init.write_text(initramfs.init_script())
    r = subprocess.run(qemu + ["sh", "-n", str(init)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # And the applets /init relies on exist in this busybox.
    applets = subprocess.run(qemu + ["--list"], capture_output=True, text=True).stdout.split()
    for a in ("sh", "mount", "insmod", "devmem", "poweroff", "setsid", "cttyhack", "dmesg",
              "grep", "sync", "mkdir"):
        assert a in applets, a


@pytest.mark.slow
@needs_debian
@pytest.mark.skipif(shutil.which("qemu-system-mipsel") is None, reason="no qemu-system-mipsel")
def test_boots_debian_malta_under_qemu(tmp_path):
    """The whole /init on a real Debian kernel: QEMU's Malta with the 4kc-malta flavour
    (its modules; virtio over PCI there).  Malta powers off by poweroff -f."""
    files = _cached()
    if not files.malta:
        pytest.skip("malta kernel not cached (python -m discovm.guests.debian --malta)")
    moddir = files.root / files.malta["modules"]
    release = next(moddir.iterdir()).name
    mods = debian.resolve_modules(moddir / release, ["virtio_pci", "virtio_blk", "virtio_net"])
    rd = tmp_path / "initrd.gz"
    rd.write_bytes(initramfs.build(files.busybox, [files.root / m.path for m in mods],
                                   release, cmd="echo hello from cmd; ls /sys/bus/virtio/drivers"))
    r = subprocess.run(["qemu-system-mipsel", "-M", "malta", "-m", "256", "-nographic",
                        "-no-reboot", "-nic", "none", "-vga", "none",
                        "-kernel", str(files.root / files.malta["kernel"]), "-initrd", str(rd),
                        "-append", "console=ttyS0 quiet"],
                       capture_output=True, text=True, timeout=300)
    assert "hello from cmd" in r.stdout
    assert "virtio_blk" in r.stdout and "virtio_net" in r.stdout
    assert "Power down" in r.stdout
