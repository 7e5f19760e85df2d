"""Run the guest programs of guests/ on QEMU's Malta board and on discovm.

``make -C guests`` builds every program twice from the same sources:
``guests/build/malta/NAME.elf`` for QEMU and ``guests/build/discovm/NAME.elf`` for us.
"""

import fcntl
import functools
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUESTS = ROOT / "guests"
BUILD = GUESTS / "build"
QEMU = "qemu-system-mipsel"

# The QEMU command line for a bare-metal Malta program (guests/rt/platform.h): the
# program's UART is QEMU's serial0, which -nographic connects to stdout; writing the
# board's SOFTRES register resets the board, which -no-reboot turns into an exit.
QEMU_ARGS = ["-M", "malta", "-cpu", "24Kf", "-nographic", "-no-reboot",
             "-vga", "none", "-nic", "none"]

# Terminal control sequences QEMU's character devices may emit.
_ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[()][A-Za-z0-9]|[=>c])")


def elf_path(name, target):
    """The ELF of program ``name`` for ``target`` ("discovm" or "malta")."""
    return BUILD / target / f"{name}.elf"


def program_names():
    """The test programs: one per guests/tests/NAME.c (from the sources, so that a
    program that failed to build shows up as a failure, not as a missing test)."""
    return sorted(p.stem for p in (GUESTS / "tests").glob("*.c"))


def build_guests():
    """``make -C guests``; returns None on success, else the error output.

    Several pytest-xdist workers may call this at once: a lock file makes them take
    turns, so that no ELF is read while another process is still writing it."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.run(["make", "-s", "-C", str(GUESTS)], capture_output=True,
                           text=True)
    if p.returncode:
        return (p.stdout + p.stderr).strip() or f"make exited with {p.returncode}"
    return None


def _clean(raw):
    text = raw.decode("utf-8", errors="replace")
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "")
    return text


def run_qemu(elf, timeout=30):
    """Run ``elf`` on ``qemu-system-mipsel -M malta``.

    Returns ``(output, status)``: the guest's console output (normalised: no
    carriage returns, no terminal escapes) and QEMU's exit status, or None if QEMU
    had to be killed after ``timeout`` seconds (the program never reset the board).
    QEMU's own messages (on stderr) are not part of the output.
    """
    if shutil.which(QEMU) is None:
        raise RuntimeError(f"{QEMU} is not installed (scripts/install-deps.sh)")
    cmd = [QEMU, *QEMU_ARGS, "-kernel", str(elf)]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return _clean(e.stdout or b""), None
    return _clean(p.stdout), p.returncode


@functools.lru_cache(maxsize=None)
def run_qemu_cached(elf, timeout=30):
    """run_qemu, once per ELF and process (its output is the reference)."""
    return run_qemu(elf, timeout)


def run_discovm(elf, *extra_args, timeout=300):
    """Run ``elf`` with ``<this python> -m discovm run --kernel ELF [extra_args]``.

    Returns ``(stdout, exit_status)``; exit_status is None if discovm was killed
    after ``timeout`` seconds.  (discovm's contract: the guest console on stdout, the
    status the guest wrote to the system controller as exit status.)  The whole
    result, including stderr, is also kept in ``run_discovm.last`` for messages.
    """
    cmd = [sys.executable, "-m", "discovm", "run", "--kernel", str(elf),
           *map(str, extra_args)]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        run_discovm.last = {"stdout": _clean(e.stdout or b""),
                            "stderr": _clean(e.stderr or b""), "status": None}
        return run_discovm.last["stdout"], None
    run_discovm.last = {"stdout": p.stdout.decode("utf-8", errors="replace"),
                        "stderr": p.stderr.decode("utf-8", errors="replace"),
                        "status": p.returncode}
    return run_discovm.last["stdout"], p.returncode


run_discovm.last = None
