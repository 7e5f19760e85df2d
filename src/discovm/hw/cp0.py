"""Coprocessor 0: the privileged registers and instructions (MIPS32 PRA, chapters 8-9).

The engine calls :func:`execute_cop0` for every COP0-class instruction after it has checked
that the CPU may use CP0 (kernel mode or Status.CU0).  Register side effects live here:
writing Status or EntryHi changes the software TLB's context, writing Count or Compare
reschedules the timer, writing a TLB entry invalidates the software TLB pages it covered.
"""

import numpy as np

from .cpu_state import (C0_CAUSE, C0_COMPARE, C0_CONFIG, C0_CONTEXT, C0_COUNT, C0_EBASE,
                        C0_ENTRYHI, C0_ENTRYLO0, C0_ENTRYLO1, C0_EPC, C0_ERROREPC, C0_HWRENA,
                        C0_INDEX, C0_PAGEMASK, C0_RANDOM, C0_SEGCTL0, C0_SEGCTL1, C0_SEGCTL2,
                        C0_STATUS, C0_USERLOCAL, C0_WIRED, CA_TI, CA_WRITABLE, N_TLB,
                        S_BRANCH_PC, S_COUNT_FROZEN, S_CYCLE, S_EVENT_AT, S_LLBIT,
                        S_COUNT_BIAS, ST_ERL, CA_DC,
                        ST_EXL, ST_IE, ST_WRITABLE)
from .exceptions import pending_interrupts, read_count, schedule_timer
from .isa import (C0_MFC0, C0_MFMC0, C0_MTC0, CO_ERET, CO_TLBP, CO_TLBR, CO_TLBWI, CO_TLBWR,
                  CO_WAIT)
from .jit import jit
from .mmu import stlb_flush, stlb_flush_range, update_context

# results of execute_cop0 besides a new PC (>= 0)
COP0_NEXT = -1        # carry on with the next instruction
COP0_RESERVED = -2    # reserved instruction exception
COP0_WAIT = -3        # WAIT: idle until an interrupt

# Bits software may write, per register; registers not listed ignore writes and read 0,
# except those in _PLAIN, which simply hold what is written.
_WRITE_MASK = {
    C0_INDEX: 0x3F, C0_ENTRYLO0: 0x3FFFFFFF, C0_ENTRYLO1: 0x3FFFFFFF,
    C0_CONTEXT: 0xFF800000, C0_USERLOCAL: 0xFFFFFFFF, C0_PAGEMASK: 0x1FFFE000,
    C0_SEGCTL0: 0xFFFFFFFF, C0_SEGCTL1: 0xFFFFFFFF, C0_SEGCTL2: 0xFFFFFFFF, C0_WIRED: 0x3F,
    C0_HWRENA: 0x2000000F, C0_ENTRYHI: 0xFFFFE0FF, C0_STATUS: ST_WRITABLE,
    C0_CAUSE: CA_WRITABLE, C0_EPC: 0xFFFFFFFF, C0_EBASE: 0x3FFFF000, C0_CONFIG: 0x7,
    C0_ERROREPC: 0xFFFFFFFF,
}
for _reg in (26, 27, 28, 29, 31):       # ErrCtl, CacheErr, TagLo/DataLo, TagHi/DataHi, DESAVE
    for _sel in range(8):
        _WRITE_MASK[_reg * 8 + _sel] = 0xFFFFFFFF
WRITE_MASK = np.zeros(256, np.int64)
for _idx, _mask in _WRITE_MASK.items():
    WRITE_MASK[_idx] = _mask


@jit
def read_random(cp0, s):
    """Random counts down between Wired and 63; here it is derived from the cycle count so
    that runs stay deterministic."""
    wired = np.int64(cp0[C0_WIRED])
    if wired >= N_TLB - 1:
        return N_TLB - 1
    return N_TLB - 1 - (s[S_CYCLE] % (N_TLB - wired))


@jit
def read_cp0(cp0, s, idx):
    if idx == C0_COUNT:
        return read_count(s)
    if idx == C0_RANDOM:
        return read_random(cp0, s)
    if idx == C0_CAUSE:
        return (np.int64(cp0[C0_CAUSE]) & ~0xFC00) | (pending_interrupts(cp0, s) & 0xFC00)
    return np.int64(cp0[idx])


@jit
def write_cp0(cp0, s, stag, idx, value):
    mask = WRITE_MASK[idx]
    if idx == C0_COUNT:
        if s[S_COUNT_FROZEN] >= 0:
            s[S_COUNT_FROZEN] = value & 0xFFFFFFFF
        else:
            s[S_COUNT_BIAS] = value - (s[S_CYCLE] >> 1)
        schedule_timer(cp0, s, np.int64(cp0[C0_COMPARE]))
        return
    if idx == C0_COMPARE:
        cp0[C0_COMPARE] = value
        cp0[C0_CAUSE] = np.int64(cp0[C0_CAUSE]) & ~CA_TI     # writing Compare acks the timer
        schedule_timer(cp0, s, value)
        return
    if mask == 0:
        return
    old = np.int64(cp0[idx])
    cp0[idx] = ((old & ~mask) | (value & mask)) & 0xFFFFFFFF
    if idx == C0_STATUS or idx == C0_ENTRYHI:
        update_context(cp0, s)
        s[S_EVENT_AT] = 0                   # interrupts may have become deliverable
    elif idx == C0_CAUSE:
        # Cause.DC stops Count (and so the timer) while set (MIPS32 PRA, Cause register).
        if (value & CA_DC) and s[S_COUNT_FROZEN] < 0:
            s[S_COUNT_FROZEN] = read_count(s)
            schedule_timer(cp0, s, np.int64(cp0[C0_COMPARE]))
        elif not (value & CA_DC) and s[S_COUNT_FROZEN] >= 0:
            s[S_COUNT_BIAS] = s[S_COUNT_FROZEN] - (s[S_CYCLE] >> 1)
            s[S_COUNT_FROZEN] = -1
            schedule_timer(cp0, s, np.int64(cp0[C0_COMPARE]))
        s[S_EVENT_AT] = 0
    elif idx == C0_WIRED:
        cp0[C0_RANDOM] = N_TLB - 1
    elif idx == C0_SEGCTL0 or idx == C0_SEGCTL1 or idx == C0_SEGCTL2:
        stlb_flush(stag)


@jit
def _tlb_pair_range(tlb, i):
    mask = np.int64(tlb[i, 1]) | 0x1FFF
    return np.int64(tlb[i, 0]) & ~mask & 0xFFFFFFFF, mask + 1


@jit
def tlb_write(cp0, stag, tlb, i):
    """TLBWI/TLBWR: copy EntryHi, PageMask, EntryLo0/1 into entry ``i``."""
    va, size = _tlb_pair_range(tlb, i)
    stlb_flush_range(stag, va, size)            # the old translation must be forgotten
    lo0 = np.int64(cp0[C0_ENTRYLO0])
    lo1 = np.int64(cp0[C0_ENTRYLO1])
    g = lo0 & lo1 & 1                           # the entry is global only if both halves say so
    mask = np.int64(cp0[C0_PAGEMASK])
    tlb[i, 0] = np.int64(cp0[C0_ENTRYHI]) & ~mask & 0xFFFFE0FF
    tlb[i, 1] = mask
    tlb[i, 2] = (lo0 & ~1) | g
    tlb[i, 3] = (lo1 & ~1) | g
    va, size = _tlb_pair_range(tlb, i)
    stlb_flush_range(stag, va, size)


@jit
def tlb_probe(cp0, tlb):
    hi = np.int64(cp0[C0_ENTRYHI])
    asid = hi & 0xFF
    for i in range(N_TLB):
        vmask = ~(np.int64(tlb[i, 1]) | 0x1FFF) & 0xFFFFFFFF
        thi = np.int64(tlb[i, 0])
        if (hi & vmask) == (thi & vmask) and ((tlb[i, 2] & 1) or (thi & 0xFF) == asid):
            cp0[C0_INDEX] = i
            return
    cp0[C0_INDEX] = 0x80000000                  # P: no match


@jit
def execute_cop0(r, cp0, s, tlb, stag, inst, pc):
    """Execute one COP0-class instruction; returns a new PC (ERET) or a COP0_* code."""
    rs = (inst >> 21) & 31
    rt = (inst >> 16) & 31
    if rs & 0x10:                               # CO: TLB instructions, ERET, WAIT
        funct = inst & 63
        if funct == CO_TLBWI:
            tlb_write(cp0, stag, tlb, np.int64(cp0[C0_INDEX]) & (N_TLB - 1))
        elif funct == CO_TLBWR:
            tlb_write(cp0, stag, tlb, read_random(cp0, s))
        elif funct == CO_TLBP:
            tlb_probe(cp0, tlb)
        elif funct == CO_TLBR:
            i = np.int64(cp0[C0_INDEX]) & (N_TLB - 1)
            g = np.int64(tlb[i, 2]) & 1
            cp0[C0_ENTRYHI] = tlb[i, 0]
            cp0[C0_PAGEMASK] = tlb[i, 1]
            cp0[C0_ENTRYLO0] = tlb[i, 2] | g
            cp0[C0_ENTRYLO1] = tlb[i, 3] | g
            update_context(cp0, s)              # the ASID in EntryHi may have changed
        elif funct == CO_ERET:
            status = np.int64(cp0[C0_STATUS])
            if status & ST_ERL:
                target = np.int64(cp0[C0_ERROREPC])
                cp0[C0_STATUS] = status & ~ST_ERL
            else:
                target = np.int64(cp0[C0_EPC])
                cp0[C0_STATUS] = status & ~ST_EXL
            s[S_LLBIT] = 0                      # ERET breaks any load-linked sequence
            s[S_BRANCH_PC] = -1
            s[S_EVENT_AT] = 0
            update_context(cp0, s)
            return target
        elif funct == CO_WAIT:
            return COP0_WAIT
        else:
            return COP0_RESERVED
        return COP0_NEXT
    idx = ((inst >> 11) & 31) * 8 + (inst & 7)
    if rs == C0_MFC0:
        if rt != 0:
            r[rt] = read_cp0(cp0, s, idx) & 0xFFFFFFFF
    elif rs == C0_MTC0:
        write_cp0(cp0, s, stag, idx, np.int64(r[rt]))
    elif rs == C0_MFMC0 and ((inst >> 11) & 31) == 12 and (inst & 0x7DF) == 0:
        status = np.int64(cp0[C0_STATUS])       # DI / EI: old Status to rt, then IE := sc
        if rt != 0:
            r[rt] = status
        cp0[C0_STATUS] = (status | ST_IE) if inst & 0x20 else (status & ~ST_IE)
        s[S_EVENT_AT] = 0
    else:
        return COP0_RESERVED                    # RDPGPR/WRPGPR need shadow sets: none here
    return COP0_NEXT
