"""The monitor's compiled fast paths (paper 4.2: Disco's hand-tuned common cases).

``run_guest`` runs a VCPU on a physical CPU for the rest of a quantum.  It calls the
engine, and when the engine returns with an exception it first tries :func:`fast_trap`,
which handles in compiled code the cases that dominate a guest's traps:

* a hardware TLB miss that the guest's own translation resolves to a guest page already
  backed by machine memory: answered from the VCPU's **second-level software TLB**
  (L2TLB, paper 4.2.2), or from the VTLB and the pmap, then written into the hardware TLB;
* the common privileged instructions from guest kernel mode (mfc0, mtc0, di/ei, tlbwi/
  tlbwr/tlbp/tlbr, eret, cache), emulated with the hardware's own CP0 code on the virtual
  CP0 (:func:`discovm.hw.cp0.execute_cop0`), when not in a branch delay slot;
* virtual interrupts (timer, devices), delivered with the hardware's own interrupt code.

Everything else (first touch of a page, device accesses, exceptions the guest must see,
WAIT, instructions in delay slots) returns to the Python slow path in :mod:`.trap`.

The L2TLB is direct-mapped: tag = guest virtual page | ASID << 20 | ERL << 28, value =
an EntryLo word for that 4 KiB page (machine PFN, D, V, G).  It is invalidated over the
range of a guest TLB entry the guest replaces, and wholesale when the guest's address map
changes (SegCtl, ERL) or the monitor takes pages back.
"""

import numpy as np

from ..hw import cpu_state as cs
from ..hw import engine
from ..hw.cp0 import COP0_NEXT, execute_cop0, read_random, tlb_probe, tlb_write
from ..hw.exceptions import service_events
from ..hw.isa import (C0_MFC0, C0_MFMC0, C0_MTC0, CO_ERET, CO_TLBP, CO_TLBR, CO_TLBWI,
                      CO_TLBWR, CO_WAIT, OP_CACHE, OP_COP0)
from ..hw.jit import jit
from ..hw.mmu import (FETCH, LOAD, P_RAM, P_ROM, STORE, T_OK, classify, stlb_flush,
                      stlb_flush_range, tlb_lookup, translate, update_context)
from ..hw.physmap import DEVICE_WINDOW, HIGH_RAM_BASE
from . import costs

L2TLB_BITS = 12
L2TLB_N = 1 << L2TLB_BITS

# Counters of the fast paths (per VCPU, array ``fstats``).  TLB: hardware entries written
# (F_TLB_FILLS, of which F_LARGE_FILLS 1 MiB or 64 KiB pairs), 4 KiB translations found in
# the L2TLB or not, and those then made from the VTLB and pmap (F_PMAP_FILLS).  Traps the
# fast path handled by cause, and the privileged instructions it emulated by kind.
(F_TLB_FILLS, F_LARGE_FILLS, F_L2TLB_HITS, F_L2TLB_MISSES, F_PMAP_FILLS, F_INTERRUPTS,
 F_TRAP_TLBL, F_TRAP_TLBS, F_TRAP_CPU, F_EMULATED) = range(10)
EMULATED_KINDS = ("mfc0", "mtc0", "di/ei", "tlbr", "tlbwi", "tlbwr", "tlbp", "eret", "wait",
                  "cache", "other")
N_FSTATS = F_EMULATED + len(EMULATED_KINDS)
_OTHER = EMULATED_KINDS.index("other")
_CACHE = EMULATED_KINDS.index("cache")
# kind by the rs field of a COP0 instruction, and by the funct field when rs says CO
_KIND_BY_RS = np.full(32, _OTHER, np.int64)
_KIND_BY_FUNCT = np.full(64, _OTHER, np.int64)
for _code, _name in ((C0_MFC0, "mfc0"), (C0_MTC0, "mtc0"), (C0_MFMC0, "di/ei")):
    _KIND_BY_RS[_code] = EMULATED_KINDS.index(_name)
for _code, _name in ((CO_TLBR, "tlbr"), (CO_TLBWI, "tlbwi"), (CO_TLBWR, "tlbwr"),
                     (CO_TLBP, "tlbp"), (CO_ERET, "eret"), (CO_WAIT, "wait")):
    _KIND_BY_FUNCT[_code] = EMULATED_KINDS.index(_name)


@jit
def emulated_kind(inst):
    """Index in EMULATED_KINDS of the privileged instruction ``inst``."""
    op = inst >> 26
    if op == OP_CACHE:
        return _CACHE
    if op != OP_COP0:
        return _OTHER
    rs = (inst >> 21) & 31
    return _KIND_BY_FUNCT[inst & 63] if rs & 0x10 else _KIND_BY_RS[rs]


# SegCtl words (MIPS32 PRA, Segmentation Control): kseg0/kseg1/kseg3 and sseg MSK (mapped,
# supervisor and kernel) while the guest is in kernel mode; MK (kernel only) while it is
# in supervisor mode, so that it sees the address errors it should; kuseg MUSK without EU
# (the monitor emulates the guest's ERL view itself).  C=3: cacheable.
_MSK, _MK, _MUSK = 0x23, 0x13, 0x33
SEGCTL_KERNEL = np.array([(_MSK << 16) | _MSK, (_MSK << 16) | _MSK, (_MUSK << 16) | _MUSK],
                         np.int64)
SEGCTL_SUPER = np.array([(_MSK << 16) | _MK, (_MK << 16) | _MK, (_MUSK << 16) | _MUSK],
                        np.int64)
M32 = 0xFFFFFFFF
_MODE_BITS = cs.ST_EXL | cs.ST_ERL | cs.ST_KSU_MASK     # what sync_mode reads of Status


@jit
def machine_pfn(mpage):
    """EntryLo PFN of machine page ``mpage`` (RAM above the device window is at 0x20000000)."""
    off = mpage * 4096
    if off < DEVICE_WINDOW:
        return mpage
    return (off - DEVICE_WINDOW + HIGH_RAM_BASE) >> 12


# The monitor's ASID allocator, one per physical CPU (array ``asids``).  By default ASIDs
# are not virtualized (paper 4.2.2): the guest's own ASID goes into the hardware and the
# TLB is flushed whenever another VCPU is put on the CPU.  With ASID-preserving reuse
# (A_MODE = 1) each (VCPU, guest ASID) gets a machine ASID of its own on that CPU, so the
# entries of several VCPUs live in the TLB together and a switch flushes nothing; the
# VCPU's table ``hwasid`` maps guest ASID -> A_GEN << 8 | machine ASID, valid while the
# generation matches.  When the 256 machine ASIDs run out, the TLB is flushed and a new
# generation starts (as Linux allocates its own ASIDs).  Guest-global entries cannot stay
# global then: the other VMs would match them.
A_MODE, A_GEN, A_NEXT, A_ROLLOVERS = range(4)
N_ASID_STATE = 4


@jit
def machine_asid(vcp0, ptlb, pstag, hwasid, asids):
    """The hardware ASID for the guest's current ASID on this CPU."""
    g = np.int64(vcp0[cs.C0_ENTRYHI]) & 0xFF
    if asids[A_MODE] == 0:
        return g
    e = hwasid[g]
    if e >= 0 and (e >> 8) == asids[A_GEN]:
        return e & 0xFF
    if asids[A_NEXT] > 0xFF:                       # all used: flush, new generation
        flush_tlb(ptlb, pstag)
        asids[A_GEN] += 1
        asids[A_NEXT] = 0
        asids[A_ROLLOVERS] += 1
    a = asids[A_NEXT]
    asids[A_NEXT] += 1
    hwasid[g] = (asids[A_GEN] << 8) | a
    return a


@jit
def sync_mode(pcp0, ps, ptlb, pstag, vcp0, vs, hwasid, asids):
    """Set the physical CPU up for the guest's current mode and ASID: guest kernel or
    supervisor mode -> supervisor mode, guest user -> user; interrupts off; the machine
    ASID standing for the guest's."""
    update_context(vcp0, vs)
    mode = vs[cs.S_MODE]
    pcp0[cs.C0_STATUS] = (1 if mode < 2 else 2) << cs.ST_KSU_SHIFT
    pcp0[cs.C0_ENTRYHI] = machine_asid(vcp0, ptlb, pstag, hwasid, asids)
    pcp0[cs.C0_HWRENA] = np.int64(vcp0[cs.C0_HWRENA]) & (1 << 29)   # rdhwr $29 natively
    want = SEGCTL_SUPER if mode == 1 else SEGCTL_KERNEL
    if np.int64(pcp0[cs.C0_SEGCTL0]) != want[0] or np.int64(pcp0[cs.C0_SEGCTL1]) != want[1] \
            or np.int64(pcp0[cs.C0_SEGCTL2]) != want[2]:
        pcp0[cs.C0_SEGCTL0] = want[0]
        pcp0[cs.C0_SEGCTL1] = want[1]
        pcp0[cs.C0_SEGCTL2] = want[2]
        stlb_flush(pstag)
    update_context(pcp0, ps)


@jit
def _drop_entry(ptlb, i, lo, size):
    """Make TLB entry ``i`` invalid and unique, as Linux does: a 4 KiB pair of kseg0 that
    no other entry uses.  But the guest's kseg0 is mapped here, so the address must also
    lie outside [lo, lo+size), the range about to be mapped (an invalid entry there would
    shadow the new one); kseg1 serves then."""
    hi = 0x80000000 + (i << 13)
    if lo <= hi < lo + size:
        hi = 0xA0000000 + (i << 13)
    ptlb[i, 0] = hi
    ptlb[i, 1] = 0
    ptlb[i, 2] = 0
    ptlb[i, 3] = 0


@jit
def flush_tlb(ptlb, pstag):
    """Invalidate the whole hardware TLB."""
    for i in range(cs.N_TLB):
        _drop_entry(ptlb, i, 0, 0)
    stlb_flush(pstag)


@jit
def forget_range(ptlb, pstag, l2tag, lo, size):
    """Drop every hardware TLB entry and L2TLB entry for guest addresses [lo, lo+size)."""
    for i in range(cs.N_TLB):
        va = np.int64(ptlb[i, 0]) & ~0x1FFF
        top = va + (np.int64(ptlb[i, 1]) | 0x1FFF) + 1
        if va < lo + size and lo < top:
            _drop_entry(ptlb, i, lo, size)
            stlb_flush_range(pstag, va, top - va)     # all of it, not just the overlap
    stlb_flush_range(pstag, lo, size)
    if size >= L2TLB_N * 4096:
        l2tag[:] = -1
    else:
        for page in range(lo >> 12, (lo + size) >> 12):
            l2tag[page & (L2TLB_N - 1)] = -1


@jit
def guest_entrylo(vcp0, vs, vtlb, pmap, l2tag, l2val, fstats, va):
    """The EntryLo word (machine PFN, D, V, G) for the guest page of ``va`` as the guest's
    MMU maps it, or 0 if the guest does not map it to RAM the monitor has already given
    it (then the slow path decides)."""
    asid = np.int64(vcp0[cs.C0_ENTRYHI]) & 0xFF
    erl = 1 if np.int64(vcp0[cs.C0_STATUS]) & cs.ST_ERL else 0
    tag = (va >> 12) | (asid << 20) | (erl << 28)
    k = (va >> 12) & (L2TLB_N - 1)
    if l2tag[k] == tag:
        fstats[F_L2TLB_HITS] += 1
        return l2val[k]
    fstats[F_L2TLB_MISSES] += 1
    res, gpa = translate(vcp0, vs, vtlb, va, LOAD)
    if res != T_OK or gpa < 0 or gpa >= vs[cs.S_RAM_SIZE]:
        return 0
    mpage = pmap[gpa >> 12]
    if mpage < 0:
        return 0
    fstats[F_PMAP_FILLS] += 1
    dirty = translate(vcp0, vs, vtlb, va, STORE)[0] == T_OK
    i = tlb_lookup(vtlb, va, asid)
    glob = i < 0 or (vtlb[i, 2] & 1) != 0         # guest-unmapped segments are global
    lo = (machine_pfn(mpage) << 6) | (3 << 3) | 2
    if dirty:
        lo |= 4
    if glob:
        lo |= 1
    l2tag[k] = tag
    l2val[k] = lo
    return lo


# Hardware page sizes the monitor maps guest memory with, largest first: a pmap superblock
# (1 MiB) and a pmap block (64 KiB) -- see pmap.py -- and their PageMask values.
LARGE_SIZES = np.array([0x100000, 0x10000], np.int64)
LARGE_MASKS = np.array([0x001FE000, 0x0001E000], np.int64)
BLOCK_BYTES = 0x10000            # machine memory is contiguous within a pmap block


@jit
def _large_entrylo(vcp0, vs, vtlb, pmap, va, size):
    """EntryLo for a hardware page of ``size`` bytes at ``va`` (aligned), or 0 unless the
    guest maps that range linearly, with pages at least as large, onto guest-physical
    memory that the pmap backs with one contiguous, aligned run of machine memory."""
    res, gpa = translate(vcp0, vs, vtlb, va, LOAD)
    if res != T_OK or gpa & (size - 1) or gpa < 0 or gpa + size > vs[cs.S_RAM_SIZE]:
        return 0
    asid = np.int64(vcp0[cs.C0_ENTRYHI]) & 0xFF
    i = tlb_lookup(vtlb, va, asid)
    if i >= 0 and ((np.int64(vtlb[i, 1]) | 0x1FFF) + 1) >> 1 < size:
        return 0                                   # the guest's own page is smaller
    g = gpa >> 12
    mpage = pmap[g]
    if mpage < 0 or mpage % (size >> 12):
        return 0
    for k in range(BLOCK_BYTES >> 12, size >> 12, BLOCK_BYTES >> 12):
        if pmap[g + k] != mpage + k:               # a block missing or elsewhere
            return 0
    lo = (machine_pfn(mpage) << 6) | (3 << 3) | 2
    if translate(vcp0, vs, vtlb, va, STORE)[0] == T_OK:
        lo |= 4
    if i < 0 or (vtlb[i, 2] & 1) != 0:
        lo |= 1
    return lo


@jit
def _write_entry(pcp0, ps, ptlb, pstag, hi, mask, lo0, lo1):
    pcp0[cs.C0_ENTRYHI] = hi
    pcp0[cs.C0_ENTRYLO0] = lo0
    pcp0[cs.C0_ENTRYLO1] = lo1
    pcp0[cs.C0_PAGEMASK] = mask
    tlb_probe(pcp0, ptlb)
    index = np.int64(pcp0[cs.C0_INDEX])
    if index & 0x80000000:
        index = read_random(pcp0, ps)
    tlb_write(pcp0, pstag, ptlb, index)


@jit
def map_page(pcp0, ps, ptlb, pstag, vcp0, vs, vtlb, pmap, l2tag, l2val, fstats, asids, va):
    """Write a hardware TLB entry for ``va``: a pair of 1 MiB or 64 KiB pages when the
    guest maps the range around it linearly onto contiguous pmap memory (kseg0, large
    guest pages), else a pair of 4 KiB pages.  False if the page of ``va`` itself needs
    the slow path."""
    asid = np.int64(pcp0[cs.C0_ENTRYHI]) & 0xFF       # the machine ASID (sync_mode)
    keep_g = ~np.int64(asids[A_MODE])                  # no global entries with ASID reuse
    for n in range(len(LARGE_SIZES)):
        size = LARGE_SIZES[n]
        base = va & ~(2 * size - 1)
        big0 = _large_entrylo(vcp0, vs, vtlb, pmap, base, size)
        if not big0:
            continue
        big1 = _large_entrylo(vcp0, vs, vtlb, pmap, base + size, size)
        if big1 and (big0 & 1) == (big1 & 1):
            # Smaller entries for the same addresses must go first (no duplicate matches).
            forget_range(ptlb, pstag, l2tag, base, 2 * size)
            _write_entry(pcp0, ps, ptlb, pstag, base | asid, LARGE_MASKS[n],
                         big0 & keep_g, big1 & keep_g)
            fstats[F_TLB_FILLS] += 1
            fstats[F_LARGE_FILLS] += 1
            return True
    even = va & ~0x1FFF
    lo0 = guest_entrylo(vcp0, vs, vtlb, pmap, l2tag, l2val, fstats, even)
    lo1 = guest_entrylo(vcp0, vs, vtlb, pmap, l2tag, l2val, fstats, even + 0x1000)
    if (lo1 if va & 0x1000 else lo0) == 0:
        return False
    g = lo0 & lo1 & 1
    if lo0 == 0:                                   # keep the pair's G bits equal
        lo0 = lo1 & 1
    if lo1 == 0:
        lo1 = lo0 & 1
    if not g:
        lo0 &= ~1
        lo1 &= ~1
    _write_entry(pcp0, ps, ptlb, pstag, even | asid, 0, lo0 & keep_g, lo1 & keep_g)
    fstats[F_TLB_FILLS] += 1
    return True


@jit
def _fetch(pcp0, ps, ptlb, pstag, pspa, ram32, va):
    """The instruction word the CPU just trapped on, with the CPU back in the guest's
    mode: from the engine's software TLB, which fetched it a moment ago, else through the
    hardware TLB (the mapping is still there)."""
    vpn = va >> 12
    i = cs.STLB_FETCH + (vpn & cs.STLB_MASK)
    if pstag[i] == (vpn | ps[cs.S_CTX]):
        return np.int64(ram32[(pspa[i] | (va & 0xFFF)) >> 2])
    res, pa = translate(pcp0, ps, ptlb, va, FETCH)
    if res != T_OK:
        return -1
    where, host = classify(ps, pa)
    if where != P_RAM and where != P_ROM:
        return -1
    return np.int64(ram32[host >> 2])


@jit
def charge(ps, cycles):
    """Account simulated time for the monitor's own work (see costs.py)."""
    ps[cs.S_CYCLE] += cycles
    ps[cs.S_HANDLER] += cycles


@jit
def fast_trap(pr, pcp0, ps, ptlb, pstag, pspa, ram32, ram16, ram8, tm, vcp0, vs, vtlb, vstag,
              pmap, l2tag, l2val, fstats, hwasid, asids):
    """Handle the exception the engine just returned with, if it is a common case.
    Returns True if handled (the CPU is ready to resume the guest)."""
    cause = np.int64(pcp0[cs.C0_CAUSE])
    exc = (cause >> 2) & 31
    epc = np.int64(pcp0[cs.C0_EPC])
    vs[cs.S_CYCLE] = ps[cs.S_CYCLE]
    if exc == cs.EXC_TLBL or exc == cs.EXC_TLBS:
        va = np.int64(pcp0[cs.C0_BADVADDR])
        if not map_page(pcp0, ps, ptlb, pstag, vcp0, vs, vtlb, pmap, l2tag, l2val, fstats,
                        asids, va):
            return False
        if exc == cs.EXC_TLBS:                     # a store to a page the guest keeps clean
            half = ((np.int64(pcp0[cs.C0_PAGEMASK]) | 0x1FFF) + 1) >> 1
            lo = np.int64(pcp0[cs.C0_ENTRYLO1]) if va & half else np.int64(pcp0[cs.C0_ENTRYLO0])
            if not lo & 4:
                return False
        ps[cs.S_PC] = epc                          # the instruction runs again, now mapped
        ps[cs.S_NPC] = (epc + 4) & M32
        charge(ps, costs.TLB_REFILL_L2TLB)
        fstats[F_TRAP_TLBL if exc == cs.EXC_TLBL else F_TRAP_TLBS] += 1
    elif exc == cs.EXC_CPU and ((cause >> 28) & 3) == 0:
        if vs[cs.S_MODE] != 0 and not (np.int64(vcp0[cs.C0_STATUS]) & cs.ST_CU0):
            return False
        at = (epc + 4) & M32 if cause >> 31 else epc      # the privileged instruction
        sync_mode(pcp0, ps, ptlb, pstag, vcp0, vs, hwasid, asids)
        inst = _fetch(pcp0, ps, ptlb, pstag, pspa, ram32, at)
        if inst < 0:
            return False
        op = inst >> 26
        if op != OP_COP0 and op != OP_CACHE:
            return False
        if op == OP_COP0 and (inst >> 25) & 1 and (inst & 63) == CO_WAIT:
            return False
        # Where the guest goes on: after the instruction, or, in a branch delay slot, to
        # the branch's target -- found by letting the CPU execute the branch once more
        # and stop before its slot (the hardware's own branch code decides).
        nxt = (at + 4) & M32
        if cause >> 31:
            sync_mode(pcp0, ps, ptlb, pstag, vcp0, vs, hwasid, asids)
            ps[cs.S_PC] = epc
            ps[cs.S_NPC] = (epc + 4) & M32
            ps[cs.S_BRANCH_PC] = -1
            ps[cs.S_LIMIT] = ps[cs.S_CYCLE] + 1
            ps[cs.S_EVENT_AT] = ps[cs.S_LIMIT]
            if engine.run(pr, pcp0, ps, ptlb, pstag, pspa, ram32, ram16, ram8, tm) \
                    != engine.R_LIMIT or ps[cs.S_PC] != at:
                return False                       # the branch itself trapped: slow path
            nxt = ps[cs.S_NPC]
            charge(ps, costs.DELAY_SLOT_EXTRA)
        charge(ps, costs.EMULATE_PRIVILEGED)
        ps[cs.S_PC] = nxt
        ps[cs.S_NPC] = (nxt + 4) & M32
        if op == OP_CACHE:                         # no caches to maintain: a no-op
            fstats[F_TRAP_CPU] += 1
            fstats[F_EMULATED + emulated_kind(inst)] += 1
            ps[cs.S_BRANCH_PC] = -1
            return True                            # the CPU is set up already (above)
        funct = inst & 63
        co = (inst >> 25) & 1
        old_status = np.int64(vcp0[cs.C0_STATUS])
        old_asid = np.int64(vcp0[cs.C0_ENTRYHI]) & 0xFF
        old_hwrena = np.int64(vcp0[cs.C0_HWRENA])
        old_seg = (np.int64(vcp0[cs.C0_SEGCTL0]), np.int64(vcp0[cs.C0_SEGCTL1]),
                   np.int64(vcp0[cs.C0_SEGCTL2]))
        replaced = -1
        if co and funct == CO_TLBWI:
            replaced = np.int64(vcp0[cs.C0_INDEX]) & (cs.N_TLB - 1)
        elif co and funct == CO_TLBWR:
            replaced = read_random(vcp0, vs)
        old_hi = np.int64(0)
        old_mask = np.int64(0)
        if replaced >= 0:
            old_hi = np.int64(vtlb[replaced, 0])
            old_mask = np.int64(vtlb[replaced, 1]) | 0x1FFF
        vs[cs.S_BRANCH_PC] = -1
        result = execute_cop0(pr, vcp0, vs, vtlb, vstag, inst, at)
        pr[0] = 0
        if result == COP0_NEXT:
            pass
        elif result >= 0:                          # ERET
            ps[cs.S_PC] = result
            ps[cs.S_NPC] = (result + 4) & M32
            ps[cs.S_LLBIT] = 0
        else:                                      # reserved: the slow path reflects RI
            return False
        fstats[F_TRAP_CPU] += 1
        fstats[F_EMULATED + emulated_kind(inst)] += 1
        if replaced >= 0:
            forget_range(ptlb, pstag, l2tag, old_hi & ~old_mask & M32, old_mask + 1)
        if (old_status ^ np.int64(vcp0[cs.C0_STATUS])) & cs.ST_ERL or \
                old_seg[0] != np.int64(vcp0[cs.C0_SEGCTL0]) or \
                old_seg[1] != np.int64(vcp0[cs.C0_SEGCTL1]) or \
                old_seg[2] != np.int64(vcp0[cs.C0_SEGCTL2]):
            flush_tlb(ptlb, pstag)                 # the guest's whole address map changed
            l2tag[:] = -1
        pcp0[cs.C0_USERLOCAL] = vcp0[cs.C0_USERLOCAL]
        # The CPU was set up for the guest before the instruction; only a change of the
        # guest's mode, ASID or HWREna needs it again (di/ei, mfc0, tlbp: no).
        if result == COP0_NEXT and \
                not (old_status ^ np.int64(vcp0[cs.C0_STATUS])) & _MODE_BITS and \
                old_asid == np.int64(vcp0[cs.C0_ENTRYHI]) & 0xFF and \
                old_hwrena == np.int64(vcp0[cs.C0_HWRENA]):
            ps[cs.S_BRANCH_PC] = -1
            return True
    else:
        return False
    ps[cs.S_BRANCH_PC] = -1
    sync_mode(pcp0, ps, ptlb, pstag, vcp0, vs, hwasid, asids)
    return True


@jit
def run_guest(pr, pcp0, ps, ptlb, pstag, pspa, ram32, ram16, ram8, tm,
              vcp0, vs, vtlb, vstag, pmap, l2tag, l2val, fstats, hwasid, asids, quantum_end):
    """Run the VCPU whose state is (vcp0, vs, vtlb) on this CPU until the quantum ends or
    a trap needs the slow path; returns the engine's reason (R_EXCEPTION: slow path)."""
    while True:
        vs[cs.S_CYCLE] = ps[cs.S_CYCLE]
        if vs[cs.S_EVENT_AT] <= vs[cs.S_CYCLE]:
            vs[cs.S_LIMIT] = 1 << 62
            vs[cs.S_BRANCH_PC] = ps[cs.S_BRANCH_PC]
            vec = service_events(vcp0, vs, ps[cs.S_PC])
            if vec >= 0:                           # a virtual interrupt for the guest
                fstats[F_INTERRUPTS] += 1
                charge(ps, costs.VIRTUAL_INTERRUPT)
                ps[cs.S_PC] = vec
                ps[cs.S_NPC] = (vec + 4) & M32
                ps[cs.S_BRANCH_PC] = -1
                sync_mode(pcp0, ps, ptlb, pstag, vcp0, vs, hwasid, asids)
        if ps[cs.S_CYCLE] >= quantum_end:
            return engine.R_LIMIT
        limit = min(quantum_end, vs[cs.S_TIMER_AT], vs[cs.S_EVENT_AT])
        ps[cs.S_LIMIT] = max(limit, ps[cs.S_CYCLE] + 1)
        ps[cs.S_EVENT_AT] = ps[cs.S_LIMIT]
        reason = engine.run(pr, pcp0, ps, ptlb, pstag, pspa, ram32, ram16, ram8, tm)
        if reason == engine.R_EXCEPTION:
            if not fast_trap(pr, pcp0, ps, ptlb, pstag, pspa, ram32, ram16, ram8, tm, vcp0, vs,
                             vtlb, vstag, pmap, l2tag, l2val, fstats, hwasid, asids):
                return reason
        elif reason != engine.R_LIMIT:
            return reason
