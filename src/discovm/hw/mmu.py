"""Address translation: segments, the joint TLB, and the software TLB in front of them.

A virtual address is translated in three steps (MIPS32 PRA, "Virtual Memory"):

1. Its segment decides whether it is mapped, unmapped, or forbidden in the current mode.
   With segmentation control (SegCtl0-2, MIPS32 Release 3, present here and announced by
   Config3.SC) the monitor can make kseg0/kseg1 mapped and reachable from supervisor mode, so
   an unmodified kernel linked for kseg0 runs in supervisor mode through the monitor's pmap
   (paper section 4.3.1, done in hardware instead of relinking).
2. Mapped addresses go through the 64-entry joint TLB of paired pages.
3. The physical address is classified: RAM, boot ROM, device window, or nothing (bus error).

The result for RAM and ROM is remembered in a *software TLB* (``stag``/``spa``), a
direct-mapped cache of 4 KiB translations, separate for fetches, loads and stores, tagged
with the virtual page number and the context (mode, ASID, ERL) it is valid in.  The engine
checks it inline on every access; only its misses come here.  Device pages are never put in
it, so every device access reaches the machine.  Pages without the dirty bit are not put in
the store part, so the first store takes the TLB Modified exception as it must.
"""

import numpy as _np

from .cpu_state import (C0_ENTRYHI, C0_SEGCTL0, C0_SEGCTL1, C0_SEGCTL2, C0_STATUS, N_TLB,
                        S_CTX, S_MODE, S_RAM_LO_END, S_RAM_SIZE, S_ROM_BASE, S_STLB_MISSES,
                        ST_ERL, ST_EXL, ST_KSU_MASK, ST_KSU_SHIFT, STLB_MASK, STLB_N)
from .jit import jit
from .physmap import DEVICE_WINDOW, HIGH_RAM_BASE, ROM_BASE, ROM_SIZE

# access kinds (also the offsets of the three parts of the software TLB)
FETCH, LOAD, STORE = 0, 1, 2

# translation results
T_OK, T_ADDRESS_ERROR, T_REFILL, T_INVALID, T_MODIFIED, T_BUS_ERROR = 0, 1, 2, 3, 4, 5
# physical classes
P_RAM, P_ROM, P_DEVICE, P_NONE = 0, 1, 2, 3

# Segment access modes (SegCtl CFGn.AM) -> per CPU mode (kernel, supervisor, user):
# 0 forbidden, 1 mapped, 2 unmapped.  MIPS32 PRA Table "Segment Configuration Access Modes".
_AM_UK, _AM_MK, _AM_MSK, _AM_MUSK, _AM_MUSUK, _AM_USK, _AM_UUSK = 0, 1, 2, 3, 4, 5, 7
SEG_ACCESS = _np.array([
    2, 0, 0,      # UK    unmapped, kernel only
    1, 0, 0,      # MK    mapped, kernel only
    1, 1, 0,      # MSK   mapped, supervisor and kernel
    1, 1, 1,      # MUSK  mapped, all modes
    2, 1, 1,      # MUSUK mapped for user/supervisor, unmapped for kernel
    2, 2, 0,      # USK   unmapped, supervisor and kernel
    0, 0, 0,      # reserved
    2, 2, 2,      # UUSK  unmapped, all modes
], _np.int64)


@jit
def update_context(cp0, s):
    """Recompute the CPU mode and the software-TLB context after Status or EntryHi change."""
    status = _np.int64(cp0[C0_STATUS])
    if status & (ST_EXL | ST_ERL):
        mode = 0
    else:
        mode = (status & ST_KSU_MASK) >> ST_KSU_SHIFT
        if mode == 3:               # KSU=3 is reserved; treat as user
            mode = 2
    s[S_MODE] = mode
    asid = _np.int64(cp0[C0_ENTRYHI]) & 0xFF
    erl = 1 if status & ST_ERL else 0
    s[S_CTX] = (asid << 20) | (mode << 28) | (erl << 30)


@jit
def segment_config(cp0, va):
    """The 16-bit SegCtl configuration word of the segment holding ``va``."""
    top = va >> 29                  # 0,1: CFG5; 2,3: CFG4; 4: CFG3; 5: CFG2; 6: CFG1; 7: CFG0
    if top <= 1:
        return _np.int64(cp0[C0_SEGCTL2]) >> 16
    if top <= 3:
        return _np.int64(cp0[C0_SEGCTL2]) & 0xFFFF
    if top == 4:
        return _np.int64(cp0[C0_SEGCTL1]) >> 16
    if top == 5:
        return _np.int64(cp0[C0_SEGCTL1]) & 0xFFFF
    if top == 6:
        return _np.int64(cp0[C0_SEGCTL0]) >> 16
    return _np.int64(cp0[C0_SEGCTL0]) & 0xFFFF


@jit
def tlb_lookup(tlb, va, asid):
    """Index of the TLB entry matching ``va`` in address space ``asid``, or -1."""
    for i in range(N_TLB):
        hi = _np.int64(tlb[i, 0])
        vmask = ~(_np.int64(tlb[i, 1]) | 0x1FFF) & 0xFFFFFFFF
        if (va & vmask) == (hi & vmask) and ((tlb[i, 2] & 1) or (hi & 0xFF) == asid):
            return i
    return -1


@jit
def translate(cp0, s, tlb, va, kind):
    """Translate ``va`` for an access of ``kind``; return (T_* result, physical address)."""
    mode = s[S_MODE]
    cfg = segment_config(cp0, va)
    access = SEG_ACCESS[((cfg >> 4) & 7) * 3 + mode]
    if (cfg & 8) and (_np.int64(cp0[C0_STATUS]) & ST_ERL):
        access = 2                  # EU: unmapped while ERL is set (kuseg at reset)
    if access == 0:
        return T_ADDRESS_ERROR, 0
    if access == 2:
        if (va >> 29) <= 3:         # 1 GiB segments: PA bit 29 comes from the address
            return T_OK, ((cfg >> 9) & 0x7E) << 29 | (va & 0x3FFFFFFF)
        return T_OK, ((cfg >> 9) & 0x7F) << 29 | (va & 0x1FFFFFFF)
    i = tlb_lookup(tlb, va, _np.int64(cp0[C0_ENTRYHI]) & 0xFF)
    if i < 0:
        return T_REFILL, 0
    half = ((_np.int64(tlb[i, 1]) | 0x1FFF) + 1) >> 1     # bytes in one page of the pair
    lo = _np.int64(tlb[i, 3]) if va & half else _np.int64(tlb[i, 2])
    if not lo & 2:
        return T_INVALID, 0
    if kind == STORE and not lo & 4:
        return T_MODIFIED, 0
    pfn = (lo >> 6) & 0xFFFFFF
    return T_OK, ((pfn << 12) & ~(half - 1)) | (va & (half - 1))


@jit
def classify(s, pa):
    """Where physical address ``pa`` lands: (P_* class, offset in the host memory array)."""
    lo_end = s[S_RAM_LO_END]
    if pa < lo_end:
        return P_RAM, pa
    if HIGH_RAM_BASE <= pa < HIGH_RAM_BASE + s[S_RAM_SIZE] - lo_end:
        return P_RAM, pa - HIGH_RAM_BASE + lo_end
    if ROM_BASE <= pa < ROM_BASE + ROM_SIZE:
        return P_ROM, s[S_ROM_BASE] + pa - ROM_BASE
    if DEVICE_WINDOW <= pa < ROM_BASE:
        return P_DEVICE, pa
    return P_NONE, pa


@jit
def stlb_fill(s, stag, spa, kind, va, host):
    """Remember that the 4 KiB page of ``va`` is at ``host`` for accesses of ``kind``."""
    idx = kind * STLB_N + ((va >> 12) & STLB_MASK)
    stag[idx] = (va >> 12) | s[S_CTX]
    spa[idx] = host & ~0xFFF
    s[S_STLB_MISSES] += 1


@jit
def stlb_flush(stag):
    stag[:] = -1


@jit
def stlb_flush_range(stag, va, size):
    """Forget every cached page in [va, va+size), in all contexts (after a TLB write)."""
    if size >= STLB_N * 4096:
        stag[:] = -1
        return
    for page in range(va >> 12, (va + size) >> 12):
        i = page & STLB_MASK
        stag[i] = -1
        stag[STLB_N + i] = -1
        stag[2 * STLB_N + i] = -1
