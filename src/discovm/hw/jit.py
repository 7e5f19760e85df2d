"""One place that decides how the machine's hot code is compiled.

Every compiled function of ``hw`` is decorated with :func:`jit`.  numba's on-disk cache only
notices changes to the source file of the cached function, but the CPU loop inlines constants
and calls helpers from several modules (``isa``, ``cpu_state``, ``mmu``, ...).  So the cache
lives in a directory named after a hash of *all* of the package's sources: any edit anywhere gives
a fresh cache, and an unchanged tree starts in well under a second instead of recompiling.

``NUMBA_DISABLE_JIT=1`` still works: the same functions then run as plain (slow) Python.
"""

import hashlib
import os
import pathlib

import numba

_HERE = pathlib.Path(__file__).resolve().parent


def _source_hash() -> str:
    # All of the package: the monitor's compiled fast paths call into hw too.
    h = hashlib.sha256(numba.__version__.encode())
    for path in sorted(_HERE.parent.rglob("*.py")):
        h.update(str(path.relative_to(_HERE.parent)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> pathlib.Path:
    base = os.environ.get("DISCOVM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "discovm")
    return pathlib.Path(base) / f"numba-{_source_hash()}"


if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(cache_dir())

# error_model='numpy': integer division by zero must not raise (the CPU guards it itself, as
# the MIPS manual leaves the result UNPREDICTABLE); boundscheck stays off for speed, so every
# physical address is range-checked on the slow path before it reaches the fast path.
jit = numba.njit(cache=True, error_model="numpy", nogil=True)
