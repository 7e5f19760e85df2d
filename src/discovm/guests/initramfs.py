"""The initramfs that boots Debian's kernel into busybox: a gzip-compressed cpio ("newc")
archive written here in pure Python.

Contents:

* ``/bin/busybox`` (busybox-static) and ``/bin/sh`` -> busybox; ``/init`` installs the
  other applets as symlinks at boot (``busybox --install -s``), which keeps the archive
  independent of the applet list of a particular busybox build.
* ``/dev/console`` (c 5 1): the kernel opens it for init's stdin/stdout/stderr *before*
  /init runs, and Debian's kernel does not mount devtmpfs by itself
  (CONFIG_DEVTMPFS_MOUNT unset), so it must be in the archive.
* ``/lib/modules/<release>/*.ko`` and ``/etc/modules``: the modules Debian builds as
  modules (virtio, virtio_ring, virtio_mmio, virtio_blk, virtio_net, ext4 and their
  dependencies), loaded by ``insmod`` in the listed (dependency) order.  insmod, not
  modprobe: the package ships no modules.dep.
* ``/cmd`` (optional): a shell script.  With it, /init runs it and powers the machine off
  with its exit status; without it, /init starts an interactive shell on the console and
  powers off with the shell's status when it exits.

Power-off: Debian's kernel has syscon-reboot but not syscon-poweroff
(CONFIG_POWER_RESET_SYSCON_POWEROFF unset), so its ``poweroff -f`` would hang.  On our
machine (the device tree's root is ``discovm,machine``) /init writes the status straight to
the system controller with ``busybox devmem`` (CONFIG_DEVMEM=y, STRICT_DEVMEM unset) --
which also carries the exit status, something no poweroff driver can.  Elsewhere (QEMU's
Malta) it falls back to ``poweroff -f``.

The archive is deterministic: fixed inode numbers, mtime 0, gzip header mtime 0.
"""

import gzip
import stat
from dataclasses import dataclass
from pathlib import Path

from ..hw import physmap

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"

INIT_SCRIPT = r"""#!/bin/sh
# discovm initramfs /init (written by discovm.guests.initramfs)
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=${TERM:-vt100}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp

# Modules in dependency order (the package has no modules.dep, so no modprobe).
[ -f /cmd ] && dmesg -n 1      # keep driver chatter out of a command's output
while read -r mod; do
    [ -n "$mod" ] && { insmod "/lib/modules/$mod" || echo "init: insmod $mod failed" >&2; }
done < /etc/modules

off() {                         # power off with exit status $1
    sync
    if grep -q discovm,machine /proc/device-tree/compatible 2>/dev/null; then
        devmem @SYSCON@ 32 "$1"    # the system controller: status & 0xff
    fi
    poweroff -f
}

if [ -f /cmd ]; then
    cd /root
    sh /cmd
    off $?
fi
echo "discovm: busybox shell; exit powers the machine off"
cd /root
if command -v cttyhack >/dev/null; then setsid cttyhack sh -l; else sh -l; fi
off $?
"""


def init_script():
    return INIT_SCRIPT.replace("@SYSCON@", f"0x{physmap.SYSCON_BASE:08X}")


@dataclass
class Entry:
    """One archive member as parsed back (see parse())."""
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple = (0, 0)
    ino: int = 0
    nlink: int = 1
    mtime: int = 0

    @property
    def is_dir(self):
        return stat.S_ISDIR(self.mode)

    @property
    def is_symlink(self):
        return stat.S_ISLNK(self.mode)

    @property
    def target(self):
        return self.data.decode() if self.is_symlink else None


class CpioWriter:
    """A newc cpio archive in memory.  Parent directories are added automatically; names
    are stored without a leading slash, as Linux's own gen_init_cpio does."""

    def __init__(self):
        self._out = bytearray()
        self._ino = 721              # any start; unique per member
        self._names = set()

    def _member(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name = name.strip("/")
        if name in self._names:
            raise ValueError(f"{name} is already in the archive")
        self._names.add(name)
        nameb = name.encode() + b"\0"
        fields = [self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(nameb), 0]
        self._ino += 1
        self._out += NEWC_MAGIC + b"".join(b"%08X" % f for f in fields) + nameb
        self._pad()
        self._out += data
        self._pad()

    def _pad(self):
        self._out += b"\0" * (-len(self._out) % 4)

    def _parents(self, name):
        parts = name.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self._names:
                self.add_dir(d)

    def add_dir(self, name, perm=0o755):
        if name.strip("/") in self._names:
            return
        self._parents(name)
        self._member(name, stat.S_IFDIR | perm, nlink=2)

    def add_file(self, name, data, perm=0o644):
        self._parents(name)
        self._member(name, stat.S_IFREG | perm, bytes(data))

    def add_symlink(self, name, target):
        self._parents(name)
        self._member(name, stat.S_IFLNK | 0o777, target.encode())

    def add_char_dev(self, name, major, minor, perm=0o600):
        self._parents(name)
        self._member(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def getvalue(self):
        """The archive, with its trailer (the writer may not be used afterwards)."""
        self._member(TRAILER, 0)
        self._out += b"\0" * (-len(self._out) % 512)   # as cpio(1) does; harmless
        return bytes(self._out)


def parse(data: bytes):
    """Parse a (possibly gzip-compressed) newc archive into [Entry], trailer excluded."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    entries, pos = [], 0
    while True:
        if data[pos:pos + 6] != NEWC_MAGIC:
            raise ValueError(f"no newc header at offset {pos}")
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        ino, mode, _uid, _gid, nlink, mtime, size, _maj, _min, rmaj, rmin, namesize, _chk = f
        pos += 110
        name = data[pos:pos + namesize - 1].decode()
        pos += namesize + (-(pos + namesize) % 4)
        body = data[pos:pos + size]
        pos += size + (-(pos + size) % 4)
        if name == TRAILER:
            return entries
        entries.append(Entry(name, mode, body, (rmaj, rmin), ino, nlink, mtime))


def build(busybox, modules=(), release="", cmd=None, extra_files=None, compress=True):
    """The initramfs: ``busybox`` (path), ``modules`` (paths of .ko files, in load order)
    installed under /lib/modules/<release>, ``cmd`` (shell text for /cmd, or None for an
    interactive shell) and ``extra_files`` {archive path: bytes or Path}."""
    w = CpioWriter()
    for d in ("bin", "dev", "etc", "lib", "mnt", "proc", "root", "sys", "tmp"):
        w.add_dir(d)
    w.add_char_dev("dev/console", 5, 1)
    w.add_char_dev("dev/null", 1, 3, 0o666)
    w.add_file("bin/busybox", Path(busybox).read_bytes(), 0o755)
    w.add_symlink("bin/sh", "busybox")
    w.add_file("init", init_script().encode(), 0o755)
    moddir = f"lib/modules/{release}" if release else "lib/modules"
    names = []
    for ko in modules:
        ko = Path(ko)
        rel = f"{release}/{ko.name}" if release else ko.name
        w.add_file(f"{moddir}/{ko.name}", ko.read_bytes(), 0o644)
        names.append(rel)
    w.add_file("etc/modules", "".join(n + "\n" for n in names).encode())
    w.add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    w.add_file("etc/group", b"root:x:0:\n")
    if cmd is not None:
        w.add_file("cmd", (cmd.rstrip("\n") + "\n").encode(), 0o755)
    for name, content in (extra_files or {}).items():
        data = Path(content).read_bytes() if isinstance(content, Path) else bytes(content)
        w.add_file(name, data, 0o755 if data.startswith(b"#!") else 0o644)
    archive = w.getvalue()
    return gzip.compress(archive, compresslevel=9, mtime=0) if compress else archive


def build_debian(files, cmd=None, extra_files=None):
    """The initramfs for Debian's kernel and busybox as fetched by guests.debian.fetch()."""
    return build(files.busybox, files.module_paths(), files.kernel_release, cmd, extra_files)
