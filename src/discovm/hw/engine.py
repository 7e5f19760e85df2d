"""The execution engine: one compiled loop that runs a CPU until something needs Python.

``run`` fetches, decodes (by the constants of :mod:`discovm.hw.isa`) and executes
instructions over the arrays of a :class:`~discovm.hw.cpu_state.CpuState` and the machine's
memory.  It returns a reason code when the time slice ends, when a device register is
accessed, when the CPU executes WAIT, or (if asked) after every exception entry.

What is kept in this function and what is not follows ../shared/NUMBA_NOTES.md: the common
path (ALU, branches, loads and stores that hit the software TLB) is written inline; rare
work (software-TLB misses, CP0, exception entry, interrupts and the timer) lives in separate
compiled functions that receive the state arrays.  Registers are read as int64 and masked to
32 bits after arithmetic (numba's uint32 arithmetic widens instead of wrapping).

Delay slots: the engine keeps PC and NPC (the instruction after it).  A branch sets the next
NPC to its target, so the delay slot at NPC runs first.  ``bpc`` remembers the last branch
executed, so that an exception in the slot can report EPC = branch and Cause.BD (MIPS32 PRA,
"Exceptions in branch delay slots").
"""

import numpy as np

from .cp0 import COP0_NEXT, COP0_RESERVED, COP0_WAIT, execute_cop0, read_cp0
from .cpu_state import (C0_EBASE, C0_HWRENA, C0_LLADDR, C0_STATUS, C0_USERLOCAL, C0_COUNT,
                        EXC_ADEL, EXC_ADES, EXC_BP, EXC_CPU, EXC_DBE, EXC_IBE, EXC_MOD,
                        EXC_OV, EXC_RI, EXC_SYS, EXC_TLBL, EXC_TLBS, EXC_TR, S_BRANCH_PC,
                        S_CTX, S_CYCLE, S_EVENT_AT, S_EXC_COUNT, S_EXIT_ON_EXC, S_LIMIT,
                        S_LLBIT, S_MMIO_COUNT, S_MMIO_DONE, S_MMIO_PA, S_MMIO_SIZE,
                        S_MMIO_VALUE, S_MMIO_WRITE, S_MODE, S_NPC, S_PC, S_PEND_BADVA,
                        S_PEND_EXC, S_PEND_REFILL, S_REASON, ST_CU0, S_CACHE_HITS, S_CPUNUM,
                        STLB_LOAD, STLB_MASK, STLB_N, STLB_STORE)
from .cache import P_LINE_SHIFT, P_SETS, P_STAMP, P_WAYS, cache_access
from .exceptions import NO_BADVADDR, exception_entry, service_events
from .isa import (BS_SEB, BS_SEH, BS_WSBH, F_ADD, F_ADDU, F_AND, F_BREAK, F_DIV, F_DIVU,
                  F_JALR, F_JR, F_MFHI, F_MFLO, F_MOVN, F_MOVZ, F_MTHI, F_MTLO, F_MULT,
                  F_MULTU, F_NOR, F_OR, F_SLL, F_SLLV, F_SLT, F_SLTU, F_SRA, F_SRAV, F_SRL,
                  F_SRLV, F_SUB, F_SUBU, F_SYNC, F_SYSCALL, F_TEQ, F_TGE, F_TGEU, F_TLT,
                  F_TLTU, F_TNE, F_XOR, F_MOVCI, MEM_ALIGN, MEM_SIZE, MEM_STORE, OP_ADDI,
                  OP_ADDIU, OP_ANDI, OP_BEQ, OP_BEQL, OP_BGTZ, OP_BGTZL, OP_BLEZ, OP_BLEZL,
                  OP_BNE, OP_BNEL, OP_CACHE, OP_COP0, OP_COP1, OP_COP1X, OP_COP2, OP_J,
                  OP_JAL, OP_LB, OP_LBU, OP_LH, OP_LHU, OP_LL, OP_LUI, OP_LW, OP_LWL, OP_LWR,
                  OP_ORI, OP_PREF, OP_REGIMM, OP_SB, OP_SC, OP_SH, OP_SLTI, OP_SLTIU,
                  OP_SPECIAL, OP_SPECIAL2, OP_SPECIAL3, OP_SW, OP_SWL, OP_SWR, OP_XORI,
                  OP_LWC1, OP_SWC1, OP_LDC1, OP_SDC1, OP_LWC2, OP_SWC2, OP_LDC2, OP_SDC2,
                  RI_SYNCI, S2_CLO, S2_CLZ, S2_MADD, S2_MADDU, S2_MSUB, S2_MSUBU, S2_MUL,
                  S3_BSHFL, S3_EXT, S3_INS, S3_RDHWR)
from .jit import jit
from .mmu import (FETCH, LOAD, P_DEVICE, P_NONE, P_RAM, P_ROM, STORE, T_ADDRESS_ERROR, T_OK,
                  T_MODIFIED, T_REFILL, classify, stlb_fill, translate)

# Why ``run`` returned.
R_LIMIT = 1          # the time slice is over
R_MMIO = 2           # a device register access is pending (S_MMIO_*); answer and call again
R_WAIT = 3           # the CPU executed WAIT with no interrupt pending
R_EXCEPTION = 4      # an exception was taken and S_EXIT_ON_EXC asked to hear of it


M32 = 0xFFFFFFFF


@jit
def _pend(s, exc, badva, refill):
    s[S_PEND_EXC] = exc
    s[S_PEND_BADVA] = badva
    s[S_PEND_REFILL] = refill
    return -1


@jit
def _tlb_exception(s, result, va, kind):
    """Turn a failed translation into the exception the architecture names for it."""
    if result == T_ADDRESS_ERROR:
        return _pend(s, EXC_ADES if kind == STORE else EXC_ADEL, va, 0)
    if result == T_MODIFIED:
        return _pend(s, EXC_MOD, va, 0)
    return _pend(s, EXC_TLBS if kind == STORE else EXC_TLBL, va, 1 if result == T_REFILL else 0)


@jit
def fetch_slow(cp0, s, tlb, stag, spa, pc):
    """Software-TLB miss on an instruction fetch: returns the host offset or -1."""
    if pc & 3:
        return _pend(s, EXC_ADEL, pc, 0)
    result, pa = translate(cp0, s, tlb, pc, FETCH)
    if result != T_OK:
        return _tlb_exception(s, result, pc, FETCH)
    where, host = classify(s, pa)
    if where != P_RAM and where != P_ROM:
        return _pend(s, EXC_IBE, NO_BADVADDR, 0)
    stlb_fill(s, stag, spa, FETCH, pc, host)
    return host


@jit
def extend_load(op, v):
    """The register value a load of opcode ``op`` leaves for memory value ``v``."""
    if op == OP_LB:
        return (((v & 0xFF) ^ 0x80) - 0x80) & M32
    if op == OP_LH:
        return (((v & 0xFFFF) ^ 0x8000) - 0x8000) & M32
    return v & M32


@jit
def data_slow(r, cp0, s, tlb, stag, spa, op, rt, va):
    """Software-TLB miss on a load or store.

    Returns the host offset of the datum (>= 0), or -1 (exception pending), -2 (a device
    access must be performed by the machine), -3 (done here: a device access completed, or a
    store to the boot ROM, which ignores it).
    """
    store = MEM_STORE[op]
    kind = STORE if store else LOAD
    result, pa = translate(cp0, s, tlb, va, kind)
    if result != T_OK:
        return _tlb_exception(s, result, va, kind)
    where, host = classify(s, pa)
    if where == P_RAM:
        stlb_fill(s, stag, spa, kind, va, host)
        return host
    if where == P_ROM:
        if store:
            return -3
        stlb_fill(s, stag, spa, kind, va, host)
        return host
    size = MEM_SIZE[op]
    if where == P_NONE or op == OP_LWL or op == OP_LWR or op == OP_SWL or op == OP_SWR \
            or op == OP_LL or op == OP_SC:
        return _pend(s, EXC_DBE, NO_BADVADDR, 0)
    # A device register: the machine performs the access between two calls of ``run``; the
    # instruction is executed again and completes with the machine's answer (replay).
    if s[S_MMIO_DONE] and s[S_MMIO_PA] == pa:
        s[S_MMIO_DONE] = 0
        if s[S_MMIO_VALUE] < 0:                     # the device signalled a bus error
            return _pend(s, EXC_DBE, NO_BADVADDR, 0)
        if not store and rt != 0:
            r[rt] = extend_load(op, s[S_MMIO_VALUE])
        return -3
    s[S_MMIO_PA] = pa
    s[S_MMIO_SIZE] = size
    s[S_MMIO_WRITE] = store
    s[S_MMIO_VALUE] = np.int64(r[rt]) & ((1 << (8 * size)) - 1) if store else 0
    s[S_MMIO_COUNT] += 1
    return -2


@jit
def _clz(x):
    if x == 0:
        return 32
    n = 0
    if not x & 0xFFFF0000:
        n += 16
        x <<= 16
    if not x & 0xFF000000:
        n += 8
        x <<= 8
    if not x & 0xF0000000:
        n += 4
        x <<= 4
    if not x & 0xC0000000:
        n += 2
        x <<= 2
    if not x & 0x80000000:
        n += 1
    return n


@jit
def _sext32(v):
    return ((v & M32) ^ 0x80000000) - 0x80000000


@jit
def run(r, cp0, s, tlb, stag, spa, ram32, ram16, ram8, tm):
    """Run the CPU until the slice ends (S_LIMIT) or something needs the caller.

    ``tm`` is None in functional mode, or the timing model's arrays
    (:meth:`discovm.hw.cache.CacheModel.engine_args`); numba compiles one loop for each, and
    the functional one contains no trace of the cache model.
    """
    pc = s[S_PC]
    npc = s[S_NPC]
    bpc = s[S_BRANCH_PC]
    cyc = s[S_CYCLE]
    event_at = s[S_EVENT_AT]
    ctx = s[S_CTX]
    exit_on_exc = s[S_EXIT_ON_EXC]
    # timing mode: the lines this CPU touched last (known to be in its cache), so that only
    # an access to another line consults the cache model
    line_shift = 0
    if tm is not None:
        # The hit path of hw/cache.py's cache_access, written here in the loop: a call
        # with the model's arrays costs more than the check itself (NUMBA_NOTES.md).
        # Misses, and writes to lines other CPUs share, go to cache_access.
        cparams = tm[4]
        line_shift = cparams[P_LINE_SHIFT]
        ctags = tm[0]
        cstamps = tm[1]
        csharers = tm[2]
        cways = cparams[P_WAYS]
        cset_mask = cparams[P_SETS] - 1
        cfirst = s[S_CPUNUM] * cparams[P_SETS]       # this CPU's first set
        cme = np.int64(1) << s[S_CPUNUM]
    last_i = -1
    last_r = -1
    last_w = -1
    while True:
        # ---- between instructions: timer, interrupts, end of slice -------------------
        if cyc >= event_at:
            s[S_CYCLE] = cyc
            s[S_BRANCH_PC] = bpc
            vec = service_events(cp0, s, pc)
            event_at = s[S_EVENT_AT]
            if vec >= 0:
                pc = vec
                npc = (vec + 4) & M32
                bpc = -1
                ctx = s[S_CTX]
                if exit_on_exc:
                    reason = R_EXCEPTION
                    break
            if cyc >= s[S_LIMIT]:
                reason = R_LIMIT
                break
        # ---- fetch -------------------------------------------------------------------
        vpn = pc >> 12
        i = vpn & STLB_MASK
        if stag[i] == (vpn | ctx):
            fa = spa[i] | (pc & 0xFFF)
        else:
            s[S_CYCLE] = cyc
            fa = fetch_slow(cp0, s, tlb, stag, spa, pc)
        if fa >= 0:
            inst = np.int64(ram32[fa >> 2])
            if tm is not None:
                ln = fa >> line_shift
                if ln != last_i:
                    cb = (cfirst + (ln & cset_mask)) * cways
                    cw = -1
                    for w in range(cways):
                        if ctags[cb + w] == ln:
                            cw = w
                    if cw >= 0:
                        cparams[P_STAMP] += 1
                        cstamps[cb + cw] = cparams[P_STAMP]
                        s[S_CACHE_HITS] += 1
                    else:
                        cyc += cache_access(tm, s, ln, 0)
                    last_i = ln
                    last_r = -1
                    last_w = -1
        else:
            inst = -1
        cyc += 1
        exc = -1
        badva = NO_BADVADDR
        refill = 0
        ce = 0
        nxt = (npc + 4) & M32
        if inst < 0:
            exc = s[S_PEND_EXC]
            badva = s[S_PEND_BADVA]
            refill = s[S_PEND_REFILL]
            inst = 0
        op = inst >> 26
        rs = (inst >> 21) & 31
        rt = (inst >> 16) & 31
        simm = ((inst & 0xFFFF) ^ 0x8000) - 0x8000

        if exc >= 0:
            pass
        # ---- SPECIAL: register-register ALU, shifts, jumps through registers ----------
        elif op == OP_SPECIAL:
            funct = inst & 63
            rd = (inst >> 11) & 31
            if funct == F_ADDU:
                r[rd] = (np.int64(r[rs]) + np.int64(r[rt])) & M32
            elif funct == F_SLL:
                r[rd] = (np.int64(r[rt]) << ((inst >> 6) & 31)) & M32
            elif funct == F_OR:
                r[rd] = r[rs] | r[rt]
            elif funct == F_SUBU:
                r[rd] = (np.int64(r[rs]) - np.int64(r[rt])) & M32
            elif funct == F_AND:
                r[rd] = r[rs] & r[rt]
            elif funct == F_XOR:
                r[rd] = r[rs] ^ r[rt]
            elif funct == F_NOR:
                r[rd] = ~(np.int64(r[rs]) | np.int64(r[rt])) & M32
            elif funct == F_SLT:
                r[rd] = 1 if _sext32(np.int64(r[rs])) < _sext32(np.int64(r[rt])) else 0
            elif funct == F_SLTU:
                r[rd] = 1 if r[rs] < r[rt] else 0
            elif funct == F_SRL:
                sa = (inst >> 6) & 31
                v = np.int64(r[rt])
                if rs & 1:                              # ROTR (MIPS32r2)
                    r[rd] = ((v >> sa) | (v << (32 - sa))) & M32
                else:
                    r[rd] = v >> sa
            elif funct == F_SRA:
                r[rd] = (_sext32(np.int64(r[rt])) >> ((inst >> 6) & 31)) & M32
            elif funct == F_SLLV:
                r[rd] = (np.int64(r[rt]) << (r[rs] & 31)) & M32
            elif funct == F_SRLV:
                sa = np.int64(r[rs]) & 31
                v = np.int64(r[rt])
                if (inst >> 6) & 1:                     # ROTRV
                    r[rd] = ((v >> sa) | (v << (32 - sa))) & M32
                else:
                    r[rd] = v >> sa
            elif funct == F_SRAV:
                r[rd] = (_sext32(np.int64(r[rt])) >> (r[rs] & 31)) & M32
            elif funct == F_JR:
                nxt = np.int64(r[rs])
                bpc = pc
            elif funct == F_JALR:
                nxt = np.int64(r[rs])
                r[rd] = (pc + 8) & M32
                bpc = pc
            elif funct == F_MOVZ:
                if r[rt] == 0:
                    r[rd] = r[rs]
            elif funct == F_MOVN:
                if r[rt] != 0:
                    r[rd] = r[rs]
            elif funct == F_MFHI:
                r[rd] = r[32]
            elif funct == F_MFLO:
                r[rd] = r[33]
            elif funct == F_MTHI:
                r[32] = r[rs]
            elif funct == F_MTLO:
                r[33] = r[rs]
            elif funct == F_MULT:
                p = _sext32(np.int64(r[rs])) * _sext32(np.int64(r[rt]))
                r[33] = p & M32
                r[32] = (p >> 32) & M32
            elif funct == F_MULTU:
                p = np.int64(r[rs]) * np.int64(r[rt])   # wraps mod 2^64: the bits are right
                r[33] = p & M32
                r[32] = (p >> 32) & M32
            elif funct == F_DIV:
                a = _sext32(np.int64(r[rs]))
                b = _sext32(np.int64(r[rt]))
                if b != 0:                              # else UNPREDICTABLE: HI/LO unchanged
                    q = abs(a) // abs(b)                # MIPS truncates toward zero
                    if (a < 0) != (b < 0):
                        q = -q
                    r[33] = q & M32
                    r[32] = (a - q * b) & M32
            elif funct == F_DIVU:
                a = np.int64(r[rs])
                b = np.int64(r[rt])
                if b != 0:
                    r[33] = a // b
                    r[32] = a % b
            elif funct == F_ADD:
                v = _sext32(np.int64(r[rs])) + _sext32(np.int64(r[rt]))
                if v != _sext32(v):
                    exc = EXC_OV
                else:
                    r[rd] = v & M32
            elif funct == F_SUB:
                v = _sext32(np.int64(r[rs])) - _sext32(np.int64(r[rt]))
                if v != _sext32(v):
                    exc = EXC_OV
                else:
                    r[rd] = v & M32
            elif funct == F_SYSCALL:
                exc = EXC_SYS
            elif funct == F_BREAK:
                exc = EXC_BP
            elif funct == F_SYNC:
                pass
            elif funct >= F_TGE and funct <= F_TNE:
                a = np.int64(r[rs])
                b = np.int64(r[rt])
                if funct == F_TGE:
                    t = _sext32(a) >= _sext32(b)
                elif funct == F_TGEU:
                    t = a >= b
                elif funct == F_TLT:
                    t = _sext32(a) < _sext32(b)
                elif funct == F_TLTU:
                    t = a < b
                elif funct == F_TEQ:
                    t = a == b
                elif funct == F_TNE:
                    t = a != b
                else:
                    t = False
                    exc = EXC_RI
                if t:
                    exc = EXC_TR
            elif funct == F_MOVCI:
                exc = EXC_CPU                           # an FPU instruction; no FPU here
                ce = 1
            else:
                exc = EXC_RI
        # ---- immediates --------------------------------------------------------------
        elif op == OP_ADDIU:
            r[rt] = (np.int64(r[rs]) + simm) & M32
        elif op == OP_LUI:
            r[rt] = (inst & 0xFFFF) << 16
        elif op == OP_ORI:
            r[rt] = np.int64(r[rs]) | (inst & 0xFFFF)
        elif op == OP_ANDI:
            r[rt] = np.int64(r[rs]) & (inst & 0xFFFF)
        elif op == OP_XORI:
            r[rt] = np.int64(r[rs]) ^ (inst & 0xFFFF)
        elif op == OP_SLTI:
            r[rt] = 1 if _sext32(np.int64(r[rs])) < simm else 0
        elif op == OP_SLTIU:
            r[rt] = 1 if np.int64(r[rs]) < (simm & M32) else 0
        elif op == OP_ADDI:
            v = _sext32(np.int64(r[rs])) + simm
            if v != _sext32(v):
                exc = EXC_OV
            else:
                r[rt] = v & M32
        # ---- branches and jumps ------------------------------------------------------
        elif op == OP_BEQ:
            if r[rs] == r[rt]:
                nxt = (npc + (simm << 2)) & M32
            bpc = pc
        elif op == OP_BNE:
            if r[rs] != r[rt]:
                nxt = (npc + (simm << 2)) & M32
            bpc = pc
        elif op == OP_BLEZ:
            if _sext32(np.int64(r[rs])) <= 0:
                nxt = (npc + (simm << 2)) & M32
            bpc = pc
        elif op == OP_BGTZ:
            if _sext32(np.int64(r[rs])) > 0:
                nxt = (npc + (simm << 2)) & M32
            bpc = pc
        elif op == OP_J:
            nxt = (npc & 0xF0000000) | ((inst & 0x3FFFFFF) << 2)
            bpc = pc
        elif op == OP_JAL:
            r[31] = (pc + 8) & M32
            nxt = (npc & 0xF0000000) | ((inst & 0x3FFFFFF) << 2)
            bpc = pc
        elif op == OP_REGIMM:
            v = _sext32(np.int64(r[rs]))
            if rt & 0x1C == 0x08 or rt & 0x1C == 0x0C:  # trap-immediate group (8..14)
                a = v & M32
                if rt == 8:
                    t = v >= simm
                elif rt == 9:
                    t = a >= (simm & M32)
                elif rt == 10:
                    t = v < simm
                elif rt == 11:
                    t = a < (simm & M32)
                elif rt == 12:
                    t = v == simm
                elif rt == 14:
                    t = v != simm
                else:
                    t = False
                    exc = EXC_RI
                if t:
                    exc = EXC_TR
            elif rt == RI_SYNCI:
                pass                                    # no caches to synchronise
            elif rt & 0x0C == 0:                        # BLTZ BGEZ BLTZL BGEZL (+AL forms)
                if rt & 1:
                    taken = v >= 0
                else:
                    taken = v < 0
                if rt & 0x10:                           # ...AL: link even if not taken
                    r[31] = (pc + 8) & M32
                if taken:
                    nxt = (npc + (simm << 2)) & M32
                elif rt & 2:                            # likely, not taken: annul the slot
                    npc = nxt
                    nxt = (npc + 4) & M32
                bpc = pc
            else:
                exc = EXC_RI
        elif op == OP_BEQL or op == OP_BNEL or op == OP_BLEZL or op == OP_BGTZL:
            if op == OP_BEQL:
                taken = r[rs] == r[rt]
            elif op == OP_BNEL:
                taken = r[rs] != r[rt]
            elif op == OP_BLEZL:
                taken = _sext32(np.int64(r[rs])) <= 0
            else:
                taken = _sext32(np.int64(r[rs])) > 0
            if taken:
                nxt = (npc + (simm << 2)) & M32
            else:
                npc = nxt
                nxt = (npc + 4) & M32
            bpc = pc
        # ---- loads and stores --------------------------------------------------------
        elif MEM_SIZE[op] != 0:
            va = (np.int64(r[rs]) + simm) & M32
            store = MEM_STORE[op]
            if va & MEM_ALIGN[op]:
                exc = EXC_ADES if store else EXC_ADEL
                badva = va
            else:
                vpn = va >> 12
                i = (vpn & STLB_MASK) + (STLB_STORE if store else STLB_LOAD)
                if stag[i] == (vpn | ctx):
                    host = spa[i] | (va & 0xFFF)
                else:
                    s[S_CYCLE] = cyc
                    host = data_slow(r, cp0, s, tlb, stag, spa, op, rt, va)
                if host >= 0:
                    if tm is not None:
                        ln = host >> line_shift
                        if (ln != last_w) if store else (ln != last_r and ln != last_w):
                            cb = (cfirst + (ln & cset_mask)) * cways
                            cw = -1
                            for w in range(cways):
                                if ctags[cb + w] == ln:
                                    cw = w
                            if cw >= 0 and (not store or csharers[ln] == cme):
                                cparams[P_STAMP] += 1
                                cstamps[cb + cw] = cparams[P_STAMP]
                                s[S_CACHE_HITS] += 1
                            else:
                                cyc += cache_access(tm, s, ln, store)
                            if store:
                                last_w = ln
                                last_r = ln
                            else:
                                last_r = ln
                                last_w = -1
                            last_i = -1
                    if op == OP_LW:
                        if rt != 0:
                            r[rt] = ram32[host >> 2]
                    elif op == OP_SW:
                        ram32[host >> 2] = r[rt]
                    elif op == OP_LBU:
                        if rt != 0:
                            r[rt] = ram8[host]
                    elif op == OP_SB:
                        ram8[host] = r[rt] & 0xFF
                    elif op == OP_LB:
                        if rt != 0:
                            r[rt] = ((np.int64(ram8[host]) ^ 0x80) - 0x80) & M32
                    elif op == OP_LHU:
                        if rt != 0:
                            r[rt] = ram16[host >> 1]
                    elif op == OP_LH:
                        if rt != 0:
                            r[rt] = ((np.int64(ram16[host >> 1]) ^ 0x8000) - 0x8000) & M32
                    elif op == OP_SH:
                        ram16[host >> 1] = r[rt] & 0xFFFF
                    elif op == OP_LL:
                        if rt != 0:
                            r[rt] = ram32[host >> 2]
                        s[S_LLBIT] = 1
                        cp0[C0_LLADDR] = (host >> 4) & M32
                    elif op == OP_SC:
                        if s[S_LLBIT]:
                            ram32[host >> 2] = r[rt]
                            if rt != 0:
                                r[rt] = 1
                        elif rt != 0:
                            r[rt] = 0
                        s[S_LLBIT] = 0
                    else:
                        # LWL/LWR/SWL/SWR on the aligned word (little-endian byte order)
                        sh = (va & 3) * 8
                        w = np.int64(ram32[host >> 2])
                        old = np.int64(r[rt])
                        if op == OP_LWL:
                            if rt != 0:
                                keep = (1 << (24 - sh)) - 1
                                r[rt] = ((w << (24 - sh)) | (old & keep)) & M32
                        elif op == OP_LWR:
                            if rt != 0:
                                keep = ~(M32 >> sh) & M32
                                r[rt] = ((w >> sh) | (old & keep)) & M32
                        elif op == OP_SWL:
                            keep = ~(M32 >> (24 - sh)) & M32
                            ram32[host >> 2] = ((w & keep) | (old >> (24 - sh))) & M32
                        else:                           # SWR
                            keep = (1 << sh) - 1
                            ram32[host >> 2] = ((w & keep) | (old << sh)) & M32
                elif host == -1:
                    exc = s[S_PEND_EXC]
                    badva = s[S_PEND_BADVA]
                    refill = s[S_PEND_REFILL]
                elif host == -2:
                    cyc -= 1                            # executed again after the machine
                    reason = R_MMIO
                    break
                # host == -3: completed by the slow path
        # ---- SPECIAL2 / SPECIAL3 ------------------------------------------------------
        elif op == OP_SPECIAL2:
            funct = inst & 63
            rd = (inst >> 11) & 31
            if funct == S2_MUL:
                r[rd] = (_sext32(np.int64(r[rs])) * _sext32(np.int64(r[rt]))) & M32
            elif funct == S2_CLZ:
                r[rd] = _clz(np.int64(r[rs]))
            elif funct == S2_CLO:
                r[rd] = _clz(~np.int64(r[rs]) & M32)
            elif funct == S2_MADD or funct == S2_MADDU or funct == S2_MSUB or funct == S2_MSUBU:
                if funct == S2_MADD or funct == S2_MSUB:
                    p = _sext32(np.int64(r[rs])) * _sext32(np.int64(r[rt]))
                else:
                    p = np.int64(r[rs]) * np.int64(r[rt])
                acc = (np.int64(r[32]) << 32) | np.int64(r[33])
                if funct == S2_MADD or funct == S2_MADDU:
                    acc = acc + p
                else:
                    acc = acc - p
                r[33] = acc & M32
                r[32] = (acc >> 32) & M32
            else:
                exc = EXC_RI                            # includes SDBBP: no EJTAG
        elif op == OP_SPECIAL3:
            funct = inst & 63
            rd = (inst >> 11) & 31
            sa = (inst >> 6) & 31
            if funct == S3_EXT:
                r[rt] = (np.int64(r[rs]) >> sa) & ((1 << (rd + 1)) - 1)
            elif funct == S3_INS:
                if rd >= sa:
                    mask = ((1 << (rd - sa + 1)) - 1) << sa
                    r[rt] = ((np.int64(r[rt]) & ~mask) | ((np.int64(r[rs]) << sa) & mask)) & M32
            elif funct == S3_BSHFL:
                v = np.int64(r[rt])
                if sa == BS_WSBH:
                    r[rd] = ((v & 0x00FF00FF) << 8) | ((v >> 8) & 0x00FF00FF)
                elif sa == BS_SEB:
                    r[rd] = (((v & 0xFF) ^ 0x80) - 0x80) & M32
                elif sa == BS_SEH:
                    r[rd] = (((v & 0xFFFF) ^ 0x8000) - 0x8000) & M32
                else:
                    exc = EXC_RI
            elif funct == S3_RDHWR:
                status = np.int64(cp0[C0_STATUS])
                if s[S_MODE] != 0 and not (status & ST_CU0) and \
                        not (np.int64(cp0[C0_HWRENA]) >> rd) & 1:
                    exc = EXC_RI
                elif rd == 0:
                    r[rt] = np.int64(cp0[C0_EBASE]) & 0x3FF       # CPUNum
                elif rd == 1:
                    r[rt] = 32                                    # SYNCI_Step
                elif rd == 2:
                    s[S_CYCLE] = cyc
                    r[rt] = read_cp0(cp0, s, C0_COUNT)            # CC
                elif rd == 3:
                    r[rt] = 2                                     # CCRes
                elif rd == 29:
                    r[rt] = cp0[C0_USERLOCAL]
                else:
                    exc = EXC_RI
            else:
                exc = EXC_RI
        # ---- coprocessors --------------------------------------------------------------
        elif op == OP_COP0 or op == OP_CACHE:
            if s[S_MODE] != 0 and not (np.int64(cp0[C0_STATUS]) & ST_CU0):
                exc = EXC_CPU                           # ce = 0
            elif op == OP_COP0:
                s[S_CYCLE] = cyc
                s[S_BRANCH_PC] = bpc
                res = execute_cop0(r, cp0, s, tlb, stag, inst, pc)
                ctx = s[S_CTX]
                event_at = s[S_EVENT_AT]
                if res >= 0:                            # ERET: no delay slot
                    npc = res
                    nxt = (res + 4) & M32
                    bpc = -1
                elif res == COP0_RESERVED:
                    exc = EXC_RI
                elif res == COP0_WAIT:
                    pc = npc
                    npc = nxt
                    reason = R_WAIT
                    break
        elif op == OP_PREF:
            pass
        elif op == OP_COP1 or op == OP_COP1X or op == OP_LWC1 or op == OP_SWC1 \
                or op == OP_LDC1 or op == OP_SDC1:
            exc = EXC_CPU                               # no FPU: Linux emulates it
            ce = 1
        elif op == OP_COP2 or op == OP_LWC2 or op == OP_SWC2 or op == OP_LDC2 or op == OP_SDC2:
            exc = EXC_CPU
            ce = 2
        else:
            exc = EXC_RI

        if exc >= 0:
            # ---- precise exception: the instruction at pc did not complete ------------
            s[S_CYCLE] = cyc
            s[S_BRANCH_PC] = bpc
            pc = exception_entry(cp0, s, exc, pc, badva, refill != 0, ce)
            npc = (pc + 4) & M32
            bpc = -1
            ctx = s[S_CTX]
            event_at = s[S_EVENT_AT]
            r[0] = 0
            if exit_on_exc:
                reason = R_EXCEPTION
                break
            continue
        r[0] = 0
        pc = npc
        npc = nxt
    s[S_PC] = pc
    s[S_NPC] = npc
    s[S_BRANCH_PC] = bpc
    s[S_CYCLE] = cyc
    s[S_REASON] = reason
    return reason
