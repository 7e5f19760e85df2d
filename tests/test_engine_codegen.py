"""Guards on the compiled hot loop (../shared/NUMBA_NOTES.md, pitfall 1)."""

import os

import numba
import numpy as np
import pytest

from discovm.hw import cpu_state, engine


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="needs the compiler")
def test_hot_loop_does_no_reference_counting():
    # A helper inlined with arrays makes numba wrap every call in NRT_incref/decref, which
    # cost a prototype 80% of its speed.  The loop must stay free of them.  numba cannot
    # inspect code loaded from its cache, so compile a private copy of the loop.
    fresh = numba.njit(error_model="numpy", nogil=True)(engine.run.py_func)
    c = cpu_state.CpuState()
    mem = np.zeros(1 << 16, np.uint8)
    fresh.compile((numba.typeof(c.r), numba.typeof(c.cp0), numba.typeof(c.s),
                   numba.typeof(c.tlb), numba.typeof(c.stag), numba.typeof(c.spa),
                   numba.typeof(mem.view(np.uint32)), numba.typeof(mem.view(np.uint16)),
                   numba.typeof(mem), numba.typeof(None)))
    llvm = "\n".join(fresh.inspect_llvm().values())
    assert len(llvm.splitlines()) > 1000, "no compiled loop to inspect"
    # numba takes one reference to each of the 9 array arguments on entry to ``run``; any
    # more in ``run`` means reference counting crept into the loop.  (The slow-path helpers
    # linked into the same module take their own references on entry: that is fine.)
    body = _function(llvm, "_ZN7discovm2hw6engine3run")
    assert body.count("call void @NRT_incref") == 9


def _function(llvm, mangled_part):
    """The text of the one function definition whose mangled name contains the part."""
    chunks = [c for c in llvm.split("\ndefine ")[1:]
              if " @" + mangled_part in c.split("\n")[0]]
    assert len(chunks) == 1, f"expected one function matching {mangled_part}"
    return chunks[0].split("\n}\n")[0]
