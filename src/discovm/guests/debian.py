"""Debian's own mipsel kernel, modules and busybox, fetched into the project's cache.

``fetch()`` runs apt-get with a private state directory (``<cache>/debian/apt``): its own
package lists, archive cache and an empty dpkg status, so the system's apt configuration
and state are never touched.  It reads the system's *sources* (the same archive the machine
installs from; ``DISCOVM_APT_SOURCES`` may name another sources file), restricted to the
mipsel architecture:

* ``APT::Architecture=mipsel`` and ``APT::Architectures=mipsel``: the plain assignment makes
  mipsel the only architecture, so ``update`` fetches only mipsel indexes (the ``::=`` form
  would append it to the host's and fetch those too) and package names need no ``:mipsel``.
* ``Dir::State::status`` = an empty file: the host's installed (amd64) packages are not
  mixed into the mipsel world.
* ``APT::Sandbox::User`` = the current user: apt would otherwise drop to ``_apt`` for
  downloads, which may not be able to write into the cache; nothing is installed, so
  nothing is gained by the sandbox.  The ``partial`` directories apt expects are made here.

What the packages give (bookworm, linux-image-6.1.0-50-mips32r2el 6.1.176-1):

* ``/boot/vmlinuz-<release>`` is an ELF (MIPS32r2, LE, o32): the self-decompressing zboot
  image.  Its one LOAD segment is at 0x81130000 (entry the same); it unpacks the XZ kernel
  to 0x80100000 and jumps there with a0-a3 as it got them, so a UHI boot works through it.
  Neither this package nor the malta flavour ships a plain ``vmlinux``.
* ``/boot/config-<release>``: the kernel's configuration.
* ``/lib/modules/<release>``: modules, *without* modules.dep (depmod runs at install
  time), so dependencies are read here from each module's ``.modinfo`` (``depends=`` and
  ``softdep=pre:``); aliases such as ``crypto-crc32c`` are resolved the same way.
* busybox-static's ``/bin/busybox``: a static MIPS32r2 ELF.

Everything ends up under ``<cache>/debian``; ``manifest.json`` there records versions and
paths, and a second ``fetch()`` with everything present returns it without running apt.
"""

import getpass
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ARCH = "mipsel"
FLAVOUR = "mips32r2el"          # the MIPS generic platform, booted by device tree
MALTA_FLAVOUR = "4kc-malta"     # QEMU's -M malta, for comparison runs
# What a guest needs: virtio-mmio disks and network, an ext4 root.  ext4 pulls in jbd2,
# mbcache and crc16 (depends=) and crc32c (softdep, for metadata checksums).
WANTED_MODULES = ["virtio", "virtio_ring", "virtio_mmio", "virtio_blk", "virtio_net", "ext4"]
_KERNEL_RE = re.compile(r"^linux-image-(\d+)\.(\d+)\.(\d+)-(\d+)-" + re.escape(FLAVOUR) + "$")


class DebianFetchError(RuntimeError):
    """Fetching or unpacking Debian's packages failed (message: one line)."""


def default_cache_dir() -> Path:
    """``$DISCOVM_CACHE``, else ``cache/`` in the project root (gitignored)."""
    if os.environ.get("DISCOVM_CACHE"):
        return Path(os.environ["DISCOVM_CACHE"])
    root = Path(__file__).resolve().parents[3]
    if (root / "pyproject.toml").exists():
        return root / "cache"
    return Path.cwd() / "cache"


@dataclass
class Module:
    name: str
    path: str                   # relative to the debian cache dir; "" if built in
    builtin: bool = False


@dataclass
class DebianFiles:
    """Where the fetched files are; ``root`` is the debian cache dir, paths are absolute."""
    root: Path
    kernel_package: str
    kernel_version: str         # Debian package version, e.g. 6.1.176-1
    kernel_release: str         # uname -r, e.g. 6.1.0-50-mips32r2el
    busybox_version: str
    kernel: Path                # vmlinuz ELF (zboot)
    config: Path
    busybox: Path
    modules: list = field(default_factory=list)   # [Module] in load order
    malta: dict | None = None   # set by fetch_malta(): package, version, kernel, modules

    def module_paths(self):
        """The .ko files to insmod, dependencies first (built-in ones are left out)."""
        return [self.root / m.path for m in self.modules if not m.builtin]


def _say(msg):
    print(f"debian: {msg}", file=sys.stderr, flush=True)


def _run(cmd, what, cwd=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise DebianFetchError(f"{what}: {cmd[0]} not found (a Debian system with apt and "
                               "dpkg is needed)") from None
    if r.returncode != 0:
        lines = [l for l in (r.stderr + r.stdout).splitlines() if l.strip()]
        # apt's own "E:" lines say what went wrong; failing that, any warning or the last line
        errs = ([l for l in lines if l.startswith("E:")] or
                [l for l in lines if l.startswith(("W:", "Err:", "dpkg"))] or lines)
        raise DebianFetchError(f"{what} failed: {errs[0] if errs else f'exit {r.returncode}'}")
    return r.stdout


class Apt:
    """apt-get/apt-cache over a private state directory."""

    def __init__(self, state: Path):
        self.state = state
        for d in ("lists/partial", "cache/archives/partial"):
            (state / d).mkdir(parents=True, exist_ok=True)
        (state / "status").touch()
        self.opts = [
            "-o", f"Dir::State::Lists={state / 'lists'}",
            "-o", f"Dir::Cache={state / 'cache'}",
            "-o", f"Dir::State::status={state / 'status'}",
            "-o", f"APT::Architecture={ARCH}",
            "-o", f"APT::Architectures={ARCH}",
            "-o", f"APT::Sandbox::User={getpass.getuser()}",
            "-o", "Acquire::Languages=none",
            "-q",
        ]
        sources = os.environ.get("DISCOVM_APT_SOURCES")
        if sources:
            self.opts += ["-o", f"Dir::Etc::sourcelist={Path(sources).resolve()}",
                          "-o", f"Dir::Etc::sourceparts={state / 'no-sources.d'}"]

    def update(self):
        _say(f"updating the {ARCH} package index (private apt state in {self.state})")
        _run(["apt-get", *self.opts, "update"], "apt-get update")
        if not any(p.name.find(f"binary-{ARCH}_Packages") >= 0
                   for p in (self.state / "lists").iterdir()):
            raise DebianFetchError(f"apt-get update: no source lists {ARCH} packages "
                                   "(set DISCOVM_APT_SOURCES to a bookworm sources file)")

    def pkgnames(self, prefix):
        return _run(["apt-cache", *self.opts, "pkgnames", prefix], "apt-cache pkgnames").split()

    def version(self, package):
        out = _run(["apt-cache", *self.opts, "policy", package], "apt-cache policy")
        m = re.search(r"Candidate:\s*(\S+)", out)
        if not m or m.group(1) == "(none)":
            raise DebianFetchError(f"package {package} is not in the {ARCH} index")
        return m.group(1)

    def download(self, packages, dest: Path):
        dest.mkdir(parents=True, exist_ok=True)
        _say("downloading " + " ".join(packages))
        _run(["apt-get", *self.opts, "download", *packages], "apt-get download", cwd=dest)
        debs = []
        for p in packages:
            found = sorted(dest.glob(f"{p}_*_*.deb"), key=lambda f: f.stat().st_mtime)
            if not found:
                raise DebianFetchError(f"apt-get download left no .deb for {p}")
            debs.append(found[-1])
        return debs


def newest_kernel(names):
    """The newest ``linux-image-X.Y.Z-ABI-mips32r2el`` (not the meta package) in ``names``."""
    found = [(tuple(map(int, m.groups())), n) for n in names if (m := _KERNEL_RE.match(n))]
    if not found:
        raise DebianFetchError(f"no linux-image-*-{FLAVOUR} package in the {ARCH} index")
    return max(found)[1]


def _deb_field(deb, name):
    return _run(["dpkg-deb", "-f", str(deb), name], "dpkg-deb -f").strip()


def _unpack(deb, dest: Path):
    _say(f"unpacking {deb.name}")
    dest.mkdir(parents=True, exist_ok=True)
    _run(["dpkg", "-x", str(deb), str(dest)], f"dpkg -x {deb.name}")


# ---- modules ------------------------------------------------------------------------------

def _modinfo(path: Path):
    """The ``key=value`` pairs of a module's .modinfo section (keys may repeat)."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".modinfo")
        data = sec.data() if sec is not None else b""
    return [tuple(x.decode(errors="replace").split("=", 1))
            for x in data.split(b"\0") if b"=" in x]


def _norm(name):
    return name.replace("-", "_")


def resolve_modules(moddir: Path, wanted):
    """Modules in ``wanted`` with their dependencies, in load order, as [Module].

    Without modules.dep, dependencies come from each module's modinfo: ``depends=`` (hard,
    from modpost's symbol resolution) and ``softdep=pre:`` (what modprobe would load
    first, e.g. ext4's crypto-crc32c).  A name that is no module file is looked up as an
    alias; a module listed in modules.builtin is built in and needs no insmod."""
    files = {_norm(p.name[:-3]): p for p in moddir.glob("kernel/**/*.ko")}
    builtin = set()
    if (moddir / "modules.builtin").exists():
        builtin = {_norm(Path(l.strip()).name[:-3])
                   for l in (moddir / "modules.builtin").read_text().splitlines() if l.strip()}
    # built-in modules' aliases: "modname.alias=value" records in modules.builtin.modinfo
    builtin_alias = {}
    bim = moddir / "modules.builtin.modinfo"
    if bim.exists():
        for rec in bim.read_bytes().split(b"\0"):
            m = re.match(rb"([\w-]+)\.alias=(.+)", rec)
            if m:
                builtin_alias[m.group(2).decode()] = _norm(m.group(1).decode())
    alias_cache = {}

    def by_alias(alias):
        if alias in builtin_alias:
            return builtin_alias[alias]
        if alias not in alias_cache:
            needle = b"\0alias=" + alias.encode() + b"\0"
            alias_cache[alias] = next((n for n, p in sorted(files.items())
                                       if needle in p.read_bytes()), None)
        return alias_cache[alias]

    order, state = [], {}

    def visit(raw, chain):
        name = _norm(raw)
        if name not in files and name not in builtin:
            real = by_alias(raw)
            if real is None:
                raise DebianFetchError(f"module {raw} (needed by {chain or 'request'}) "
                                       "is neither in the package nor built in")
            name = real
        if state.get(name) == "done":
            return
        if state.get(name) == "busy":
            raise DebianFetchError(f"module dependency cycle at {name}")
        state[name] = "busy"
        if name in builtin:
            order.append(Module(name, "", True))
        else:
            info = _modinfo(files[name])
            deps = [d for k, v in info if k == "depends" for d in v.split(",") if d]
            for k, v in info:
                if k == "softdep":       # "pre: a b post: c": only pre-deps load first
                    m = re.search(r"pre:\s*([^:]*?)(?:\s+\w+:|$)", v)
                    deps += m.group(1).split() if m else []
            for d in deps:
                visit(d, name)
            order.append(Module(name, str(files[name]), False))
        state[name] = "done"

    for w in wanted:
        visit(w, "")
    return order


# ---- fetching ------------------------------------------------------------------------------

def _manifest_path(root):
    return root / "manifest.json"


def _load(root: Path):
    try:
        d = json.loads(_manifest_path(root).read_text())
        files = DebianFiles(root=root, kernel_package=d["kernel_package"],
                            kernel_version=d["kernel_version"],
                            kernel_release=d["kernel_release"],
                            busybox_version=d["busybox_version"],
                            kernel=root / d["kernel"], config=root / d["config"],
                            busybox=root / d["busybox"],
                            modules=[Module(**m) for m in d["modules"]],
                            malta=d.get("malta"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    needed = [files.kernel, files.config, files.busybox, *files.module_paths()]
    return files if all(p.is_file() for p in needed) else None


def _save(files: DebianFiles):
    d = asdict(files)
    d.pop("root")
    for k in ("kernel", "config", "busybox"):
        d[k] = str(Path(d[k]).relative_to(files.root))
    d["modules"] = [asdict(m) for m in files.modules]
    tmp = _manifest_path(files.root).with_suffix(".tmp")
    tmp.write_text(json.dumps(d, indent=2) + "\n")
    tmp.replace(_manifest_path(files.root))


def fetch(cache_dir=None, kernel_package=None, modules=WANTED_MODULES) -> DebianFiles:
    """Fetch (once) Debian's mips32r2el kernel and busybox-static into ``cache_dir``.

    ``kernel_package`` pins a package name; default: the newest the index lists."""
    root = Path(cache_dir or default_cache_dir()) / "debian"
    have = _load(root)
    if have is not None and (kernel_package is None or have.kernel_package == kernel_package):
        return have
    root.mkdir(parents=True, exist_ok=True)
    apt = Apt(root / "apt")
    apt.update()
    pkg = kernel_package or newest_kernel(apt.pkgnames("linux-image-"))
    _say(f"kernel: {pkg} {apt.version(pkg)}")
    kdeb, bdeb = apt.download([pkg, "busybox-static"], root / "debs")

    # A fresh tree: a stale one from an older kernel must not leave its modules behind.
    tree = root / "rootfs"
    if tree.exists():
        shutil.rmtree(tree)
    _unpack(kdeb, tree)
    _unpack(bdeb, tree)
    release = pkg.removeprefix("linux-image-")
    kernel = tree / "boot" / f"vmlinuz-{release}"
    config = tree / "boot" / f"config-{release}"
    busybox = tree / "bin" / "busybox"
    for p in (kernel, config, busybox):
        if not p.is_file():
            raise DebianFetchError(f"{p.relative_to(root)} is not in the packages")
    moddir = tree / "lib" / "modules" / release
    mods = resolve_modules(moddir, modules)
    for m in mods:
        if m.path:
            m.path = str(Path(m.path).relative_to(root))
    files = DebianFiles(root=root, kernel_package=pkg, kernel_version=_deb_field(kdeb, "Version"),
                        kernel_release=release, busybox_version=_deb_field(bdeb, "Version"),
                        kernel=kernel, config=config, busybox=busybox, modules=mods)
    _save(files)
    _say(f"done: {files.kernel_release} ({files.kernel_version}), busybox "
         f"{files.busybox_version}, {len(files.module_paths())} modules")
    return files


def fetch_malta(cache_dir=None) -> DebianFiles:
    """Also fetch the ``4kc-malta`` kernel of the same ABI, for runs under QEMU's
    ``-M malta`` (an oracle for the same userland); recorded as ``files.malta``.  Like the
    generic one it ships only a zboot ``vmlinuz`` ELF; its modules (virtio over PCI there)
    are under ``malta/lib/modules``."""
    files = fetch(cache_dir)
    root = files.root
    if files.malta and files.malta.get("kernel") and (root / files.malta["kernel"]).is_file():
        return files
    abi = files.kernel_release.removesuffix("-" + FLAVOUR)
    pkg = f"linux-image-{abi}-{MALTA_FLAVOUR}"
    apt = Apt(root / "apt")
    apt.update()
    (deb,) = apt.download([pkg], root / "debs")
    tree = root / "malta"
    if tree.exists():
        shutil.rmtree(tree)
    _unpack(deb, tree)
    boot = tree / "boot"
    image = next((p for pat in ("vmlinux-*", "vmlinuz-*") for p in sorted(boot.glob(pat))), None)
    if image is None:
        raise DebianFetchError(f"{pkg} has no kernel image in /boot")
    files.malta = {"package": pkg, "version": _deb_field(deb, "Version"),
                   "kernel": str(image.relative_to(root)),
                   "modules": str((tree / "lib" / "modules").relative_to(root))}
    _save(files)
    return files


def config_options(files: DebianFiles, pattern=r"."):
    """{CONFIG_X: value} from the kernel's config whose names match ``pattern``; options
    that are "not set" map to "n"."""
    out = {}
    for line in files.config.read_text().splitlines():
        m = re.match(r"^(CONFIG_\w+)=(.*)$", line) or re.match(r"^# (CONFIG_\w+) is not set$", line)
        if m and re.search(pattern, m.group(1)):
            out[m.group(1)] = m.group(2) if m.lastindex == 2 else "n"
    return out


if __name__ == "__main__":      # python -m discovm.guests.debian [--malta]
    try:
        f = fetch_malta() if "--malta" in sys.argv[1:] else fetch()
    except DebianFetchError as e:
        print(f"debian: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(json.loads(_manifest_path(f.root).read_text()), indent=2))
