"""Exception entry, interrupts and the Count/Compare timer: what the CPU does, by itself,
between instructions (MIPS32 PRA, "Exceptions" and "Interrupts").

Exception entry is the hardware's: save EPC (unless EXL is already set), set Cause.BD for
a fault in a branch delay slot, record the cause, set EXL, and continue at the vector.  What
runs at the vector is the guest's own handler on the bare machine, or the monitor's (which
asks the engine to return to it after every exception entry, see ``S_EXIT_ON_EXC``).
"""

import numpy as np

from .cpu_state import (C0_BADVADDR, C0_CAUSE, C0_CONTEXT, C0_EBASE, C0_ENTRYHI, C0_EPC,
                        C0_STATUS, CA_BD, CA_IV, CA_TI, EXC_INT, S_BRANCH_PC, S_COUNT_BIAS,
                        S_COUNT_FROZEN,
                        S_CYCLE, S_EVENT_AT, S_EXC_COUNT, S_INTERRUPTS, S_IRQ_LINES, S_LIMIT,
                        S_TIMER_AT, S_TLB_REFILLS, ST_BEV, ST_ERL, ST_EXL, ST_IE)
from .jit import jit
from .mmu import update_context

NO_BADVADDR = -1


@jit
def exception_entry(cp0, s, exc, pc, badva, refill, ce):
    """Take exception ``exc`` raised by the instruction at ``pc``; return the vector address.

    ``badva`` >= 0 is recorded in BadVAddr; for TLB exceptions (``exc`` Mod/TLBL/TLBS) it
    also fills Context.BadVPN2 and EntryHi.VPN2 so that the handler can write the entry.
    ``refill`` selects the TLB refill vector (offset 0) when EXL was clear.  ``ce`` is the
    coprocessor number of a Coprocessor Unusable exception.
    """
    status = np.int64(cp0[C0_STATUS])
    cause = np.int64(cp0[C0_CAUSE])
    if status & ST_EXL:
        offset = 0x180              # nested: EPC and BD keep the first exception's values
    else:
        if s[S_BRANCH_PC] == ((pc - 4) & 0xFFFFFFFF):
            cp0[C0_EPC] = (pc - 4) & 0xFFFFFFFF
            cause |= CA_BD
        else:
            cp0[C0_EPC] = pc
            cause &= ~CA_BD
        offset = 0x000 if refill else 0x180
    if exc == EXC_INT and (cause & CA_IV):
        offset = 0x200
    if badva >= 0:
        cp0[C0_BADVADDR] = badva
        if 1 <= exc <= 3:           # Mod, TLBL, TLBS
            ctx = np.int64(cp0[C0_CONTEXT])
            cp0[C0_CONTEXT] = (ctx & 0xFF800000) | ((badva >> 9) & 0x7FFFF0)
            hi = np.int64(cp0[C0_ENTRYHI])
            cp0[C0_ENTRYHI] = (badva & 0xFFFFE000) | (hi & 0xFF)
    cause = (cause & ~(0x7C | (3 << 28))) | (exc << 2) | (ce << 28)
    cp0[C0_CAUSE] = cause & 0xFFFFFFFF
    cp0[C0_STATUS] = status | ST_EXL
    update_context(cp0, s)
    s[S_BRANCH_PC] = -1
    s[S_EXC_COUNT + exc] += 1
    if refill:
        s[S_TLB_REFILLS] += 1
    if status & ST_BEV:
        base = 0xBFC00200
    else:
        base = np.int64(cp0[C0_EBASE]) & 0xFFFFF000
    return (base + offset) & 0xFFFFFFFF


# ---- Count/Compare (MIPS32 PRA, Count and Compare registers) --------------------------
# Count runs at half the CPU clock (RDHWR CCRes = 2).  Rather than counting per cycle we
# remember a bias (Count = cycle/2 + bias) and the cycle at which Count will equal Compare.


@jit
def read_count(s):
    if s[S_COUNT_FROZEN] >= 0:                  # Cause.DC: Count is stopped
        return s[S_COUNT_FROZEN]
    return ((s[S_CYCLE] >> 1) + s[S_COUNT_BIAS]) & 0xFFFFFFFF


@jit
def schedule_timer(cp0, s, compare):
    if s[S_COUNT_FROZEN] >= 0:
        s[S_TIMER_AT] = 1 << 62                 # a stopped Count never reaches Compare
        return
    ticks = (compare - read_count(s)) & 0xFFFFFFFF
    if ticks == 0:
        ticks = 1 << 32
    s[S_TIMER_AT] = ((s[S_CYCLE] >> 1) + ticks) << 1
    s[S_EVENT_AT] = 0               # look again at once


@jit
def pending_interrupts(cp0, s):
    """Cause.IP as the CPU sees it now: software bits, external lines, and the timer."""
    cause = np.int64(cp0[C0_CAUSE])
    ip = (cause & 0x300) | ((s[S_IRQ_LINES] & 0xFC) << 8)
    if cause & CA_TI:
        ip |= 0x8000                # IntCtl.IPTI = 7
    return ip


@jit
def service_events(cp0, s, pc):
    """Between two instructions: fire the timer, take an interrupt if one is enabled.

    Returns the vector address if an interrupt was taken, else -1.  Also decides when the
    engine must call again (``S_EVENT_AT``).
    """
    if s[S_CYCLE] >= s[S_TIMER_AT]:
        cp0[C0_CAUSE] = np.int64(cp0[C0_CAUSE]) | CA_TI
        s[S_TIMER_AT] += 1 << 33     # next match after Count wraps around
    ip = pending_interrupts(cp0, s)
    cause = np.int64(cp0[C0_CAUSE])
    cp0[C0_CAUSE] = (cause & ~0xFC00) | (ip & 0xFC00)
    s[S_EVENT_AT] = min(s[S_LIMIT], s[S_TIMER_AT])
    status = np.int64(cp0[C0_STATUS])
    if (status & ST_IE) and not (status & (ST_EXL | ST_ERL)) and (ip & status & 0xFF00):
        s[S_INTERRUPTS] += 1
        return exception_entry(cp0, s, EXC_INT, pc, NO_BADVADDR, False, 0)
    return -1
