"""Trap and emulate: what the monitor does when a guest's instruction stops the CPU.

Every exception a guest raises returns to the monitor (the engine's ``R_EXCEPTION``).
The monitor reads the *physical* Cause, EPC and BadVAddr and decides (paper 4.2.1-4.2.3):

* **TLB miss** on a guest address: work out what the guest's own MMU would say (the
  hardware's translation code run on the VCPU's virtual CP0 and VTLB).  If the guest
  maps the page, or it lies in a segment the guest sees unmapped (kseg0/kseg1), turn the
  guest-physical page into a machine page through the pmap and write a hardware TLB entry:
  the guest never notices.  Otherwise reflect the TLB exception the guest would have had.
* **Coprocessor unusable** for CP0 from guest kernel mode: a privileged instruction.
  Emulate it on the virtual CP0 with the hardware's own CP0 code, then step past it.
* **Device access** (guest-physical address in the device window): emulate the load or
  store against the VM's virtual device.
* Everything else (syscall, break, traps, overflow, reserved instructions, address errors,
  FPU use) belongs to the guest: reflect it to the guest's exception vector, setting the
  virtual EPC, Cause, BadVAddr and Status as the hardware would have.
"""

import numpy as np

from ..hw import cpu_state as cs
from ..hw import isa
from ..hw.cp0 import COP0_RESERVED, COP0_WAIT, execute_cop0, read_cp0
from ..hw.engine import extend_load
from ..hw.exceptions import NO_BADVADDR, exception_entry
from ..hw.mmu import LOAD, STORE, T_ADDRESS_ERROR, T_MODIFIED, T_OK, T_REFILL
from ..hw.mmu import translate
from ..hw.physmap import DEVICE_WINDOW, ROM_BASE, ROM_SIZE
from .fastpath import EMULATED_KINDS, emulated_kind

M32 = 0xFFFFFFFF


class GuestFault(Exception):
    """The guest did something that ends its VM (reported, never a traceback)."""


def handle_trap(mon, pcpu, vcpu):
    """Deal with the exception that just returned physical CPU ``pcpu`` to the monitor."""
    p = pcpu
    cause = int(p.cp0[cs.C0_CAUSE])
    exc = (cause >> 2) & 31
    bd = bool(cause >> 31)
    epc = int(p.cp0[cs.C0_EPC])
    badva = int(p.cp0[cs.C0_BADVADDR])
    fault_pc = (epc + 4) & M32 if bd else epc
    vcpu.count("traps", cs.EXC_NAMES.get(exc, str(exc)))
    v = vcpu.v
    v.s[cs.S_CYCLE] = p.s[cs.S_CYCLE]
    if exc in (cs.EXC_TLBL, cs.EXC_TLBS, cs.EXC_MOD):
        kind = LOAD if exc == cs.EXC_TLBL else STORE
        res, gpa = translate(v.cp0, v.s, v.tlb, badva, kind)
        fetch = exc == cs.EXC_TLBL and badva == fault_pc
        if res == T_OK and vcpu.vm.is_ram(gpa):
            map_page(mon, p, vcpu, badva)
            resume(p, epc)                      # try the instruction again
        elif res == T_OK and ROM_BASE <= gpa < ROM_BASE + ROM_SIZE and fetch:
            # The guest took an exception with Status.BEV set (no handler of its own yet)
            # or jumped into the boot ROM: the bare machine's ROM powers off with 0xFE.
            # So does the VM, alone (fault containment, paper section 3), and the monitor
            # says why.
            vcpu.vm.exit_status = 0xFE
            vcpu.vm.exit_reason = rom_reason(v, badva, fetch)
        elif res == T_OK:
            # Device registers, and data in the boot ROM (a read-only device of the VM)
            if DEVICE_WINDOW <= gpa < ROM_BASE + ROM_SIZE and not fetch:
                emulate_mmio(mon, p, vcpu, epc, bd, fault_pc, gpa)
            else:
                reflect(p, vcpu, epc, bd, cs.EXC_IBE if fetch else cs.EXC_DBE)
        else:
            reflect_translation(p, vcpu, epc, bd, res, badva, kind)
    elif exc in (cs.EXC_ADEL, cs.EXC_ADES):
        kind = STORE if exc == cs.EXC_ADES else LOAD
        res, gpa = (T_ADDRESS_ERROR, 0) if badva & 0 else translate(v.cp0, v.s, v.tlb, badva, kind)
        if res == T_OK and not _misaligned(mon, p, vcpu, fault_pc, badva):
            raise GuestFault(f"monitor: the guest may use 0x{badva:08x} but the CPU refused it")
        reflect(p, vcpu, epc, bd, exc, badva=badva)
    elif exc == cs.EXC_CPU and ((cause >> 28) & 3) == 0:
        if vcpu.mode == 0 or int(v.cp0[cs.C0_STATUS]) & cs.ST_CU0:
            emulate_privileged(mon, p, vcpu, epc, bd, fault_pc)
        else:
            reflect(p, vcpu, epc, bd, cs.EXC_CPU, ce=0)
    elif exc == cs.EXC_RI:
        inst = guest_fetch(mon, p, vcpu, fault_pc)
        if inst is not None and inst >> 26 == isa.OP_SPECIAL3 and inst & 63 == isa.S3_RDHWR \
                and rdhwr_allowed(v, (inst >> 11) & 31):
            emulate_rdhwr(p, vcpu, inst)
            vcpu.count("emulated", "rdhwr")
            step_past(mon, p, vcpu, epc, bd)
        else:
            reflect(p, vcpu, epc, bd, cs.EXC_RI)
    else:
        reflect(p, vcpu, epc, bd, exc, ce=(cause >> 28) & 3)


EXC_TEXT = {cs.EXC_MOD: "TLB modified", cs.EXC_TLBL: "TLB miss on load or fetch",
            cs.EXC_TLBS: "TLB miss on store", cs.EXC_ADEL: "address error on load or fetch",
            cs.EXC_ADES: "address error on store", cs.EXC_IBE: "bus error on fetch",
            cs.EXC_DBE: "bus error on load or store", cs.EXC_RI: "reserved instruction",
            cs.EXC_CPU: "coprocessor unusable"}


def rom_reason(v, addr, fetch):
    """Why the guest of VCPU state ``v`` reached the boot ROM at ``addr``, in words, from
    its virtual CP0: what the hardware recorded when it took the exception."""
    status = int(v.cp0[cs.C0_STATUS])
    if not fetch:
        return f"access to the boot ROM at 0x{addr:08x}"
    if status & cs.ST_BEV and status & cs.ST_EXL:
        code = (int(v.cp0[cs.C0_CAUSE]) >> 2) & 31
        what = cs.EXC_NAMES.get(code, str(code))
        text = f"exception with no handler (Status.BEV = 1): {what}"
        if code in EXC_TEXT:
            text += f" ({EXC_TEXT[code]})"
        text += f" at EPC 0x{int(v.cp0[cs.C0_EPC]):08x}"
        if code in (cs.EXC_MOD, cs.EXC_TLBL, cs.EXC_TLBS, cs.EXC_ADEL, cs.EXC_ADES):
            text += f", BadVAddr 0x{int(v.cp0[cs.C0_BADVADDR]):08x}"
        return text
    return f"jumped into the boot ROM at 0x{addr:08x}"


def _misaligned(mon, p, vcpu, fault_pc, badva):
    """True if the address error comes from alignment (the guest would get it too)."""
    inst = guest_fetch(mon, p, vcpu, fault_pc)
    if inst is None or badva == fault_pc:
        return badva & 3 != 0
    op = inst >> 26
    return bool(badva & int(isa.MEM_ALIGN[op])) if op < 64 else False


# ---- getting back into the guest ---------------------------------------------------------

def resume(p, pc):
    p.s[cs.S_PC] = pc
    p.s[cs.S_NPC] = (pc + 4) & M32
    p.s[cs.S_BRANCH_PC] = -1


def step_past(mon, p, vcpu, epc, bd):
    """Continue after an emulated instruction at EPC, or in the delay slot of the branch at
    EPC: then the branch is executed once more by the CPU itself, stopping before its slot,
    so that its target comes from the hardware's own branch code."""
    if not bd:
        resume(p, (epc + 4) & M32)
        return
    resume(p, epc)
    target = mon.single_step(p, vcpu)
    resume(p, target)


def reflect(p, vcpu, epc, bd, exc, badva=NO_BADVADDR, refill=False, ce=0):
    """Deliver exception ``exc`` to the guest, as the hardware would have (virtual EPC,
    Cause.BD/ExcCode/CE, BadVAddr, EXL) and continue at the guest's vector."""
    v = vcpu.v
    v.s[cs.S_BRANCH_PC] = epc if bd else -1
    fault_pc = (epc + 4) & M32 if bd else epc
    vector = exception_entry(v.cp0, v.s, exc, fault_pc, badva, refill, ce)
    vcpu.count("reflected", cs.EXC_NAMES.get(exc, str(exc)))
    resume(p, vector)
    vcpu.vm.monitor.sync_mode(p, vcpu)


def reflect_translation(p, vcpu, epc, bd, res, badva, kind):
    if res == T_ADDRESS_ERROR:
        reflect(p, vcpu, epc, bd, cs.EXC_ADES if kind == STORE else cs.EXC_ADEL, badva=badva)
    elif res == T_MODIFIED:
        reflect(p, vcpu, epc, bd, cs.EXC_MOD, badva=badva)
    else:
        vcpu.stats["guest_tlb_misses"] += 1
        reflect(p, vcpu, epc, bd, cs.EXC_TLBS if kind == STORE else cs.EXC_TLBL,
                badva=badva, refill=(res == T_REFILL))


# ---- the MMU: guest virtual -> guest physical -> machine ---------------------------------

def map_guest_page(mon, p, vcpu, va):
    """Map ``va`` in the hardware TLB if the guest maps it to its RAM; False if not."""
    v = vcpu.v
    res, gpa = translate(v.cp0, v.s, v.tlb, va, LOAD)
    if res != T_OK or not vcpu.vm.is_ram(gpa):
        return False
    map_page(mon, p, vcpu, va)
    return True


def map_page(mon, p, vcpu, va):
    """First touch: allocate the guest pages of the 8 KiB pair around ``va`` that the
    guest maps to its RAM (demand-zero, on the VCPU's node), then write the hardware TLB
    entry as the fast path does (paper 4.2.2)."""
    v = vcpu.v
    even = va & ~0x1FFF
    for hva in (even, even + 0x1000):
        res, gpa = translate(v.cp0, v.s, v.tlb, hva, LOAD)
        if res == T_OK and vcpu.vm.is_ram(gpa):
            vcpu.vm.pmap.lookup(gpa >> 12, vcpu.node)
    mon.map_page(p, vcpu, va)


def guest_fetch(mon, p, vcpu, va):
    """The instruction word at guest virtual ``va``, as the guest's MMU sees it."""
    v = vcpu.v
    res, gpa = translate(v.cp0, v.s, v.tlb, va, LOAD)
    if res != T_OK or not vcpu.vm.is_ram(gpa, 4):
        return None
    off = vcpu.vm.machine_offset(gpa, vcpu.node)
    return int(mon.machine.ram32[off >> 2])


# ---- privileged instructions ------------------------------------------------------------

def emulate_privileged(mon, p, vcpu, epc, bd, fault_pc):
    inst = guest_fetch(mon, p, vcpu, fault_pc)
    if inst is None:
        raise GuestFault(f"cannot read the instruction at 0x{fault_pc:08x}")
    op = inst >> 26
    v = vcpu.v
    if op == isa.OP_CACHE:
        vcpu.count("emulated", "cache")          # nothing to do: no caches to maintain
        step_past(mon, p, vcpu, epc, bd)
        return
    if op != isa.OP_COP0:
        reflect(p, vcpu, epc, bd, cs.EXC_CPU, ce=0)
        return
    rs = (inst >> 21) & 31
    name = EMULATED_KINDS[emulated_kind(inst)]
    vcpu.count("emulated", name)
    # The guest's live registers are in the physical CPU: emulate on them, with the
    # virtual CP0 and VTLB.
    before = v.tlb.copy() if name in ("tlbwi", "tlbwr") else None
    old_status = int(v.cp0[cs.C0_STATUS])
    old_segctl = v.cp0[cs.C0_SEGCTL0:cs.C0_SEGCTL2 + 1].copy()
    v.s[cs.S_BRANCH_PC] = -1
    result = execute_cop0(p.r, v.cp0, v.s, v.tlb, vcpu.dummy_stag, inst, fault_pc)
    p.r[0] = 0
    if before is not None:
        for i in np.nonzero((before != v.tlb).any(axis=1))[0]:
            mon.forget_guest_mapping(p, vcpu, before[i])
    if not np.array_equal(old_segctl, v.cp0[cs.C0_SEGCTL0:cs.C0_SEGCTL2 + 1]) or \
            (old_status ^ int(v.cp0[cs.C0_STATUS])) & cs.ST_ERL:
        mon.flush_tlb(p)                          # the guest's whole address map changed
    if result == COP0_RESERVED:
        reflect(p, vcpu, epc, bd, cs.EXC_RI)
        return
    if result >= 0:                              # ERET: no delay slot, straight to target
        resume(p, result)
        p.s[cs.S_LLBIT] = 0                      # ERET breaks the guest's ll/sc link
    else:
        step_past(mon, p, vcpu, epc, bd)
        if result == COP0_WAIT:
            mon.vcpu_waits(vcpu)
    if name in ("mtc0", "tlbr") and rs == isa.C0_MTC0 and \
            ((inst >> 11) & 31) * 8 + (inst & 7) == cs.C0_USERLOCAL:
        p.cp0[cs.C0_USERLOCAL] = v.cp0[cs.C0_USERLOCAL]
    mon.sync_mode(p, vcpu)


def rdhwr_allowed(v, rd):
    return (int(v.s[cs.S_MODE]) == 0 or int(v.cp0[cs.C0_STATUS]) & cs.ST_CU0
            or (int(v.cp0[cs.C0_HWRENA]) >> rd) & 1) and rd in (0, 1, 2, 3, 29)


def emulate_rdhwr(p, vcpu, inst):
    v = vcpu.v
    rt, rd = (inst >> 16) & 31, (inst >> 11) & 31
    value = {0: vcpu.index, 1: 32, 2: int(read_cp0(v.cp0, v.s, cs.C0_COUNT)), 3: 2,
             29: int(v.cp0[cs.C0_USERLOCAL])}[rd]
    if rt:
        p.r[rt] = value & M32


# ---- devices ------------------------------------------------------------------------------

def emulate_mmio(mon, p, vcpu, epc, bd, fault_pc, gpa):
    """A guest load or store to its device window: perform it on the virtual device."""
    inst = guest_fetch(mon, p, vcpu, fault_pc)
    if inst is None:
        raise GuestFault(f"cannot read the instruction at 0x{fault_pc:08x}")
    op = inst >> 26
    size = int(isa.MEM_SIZE[op]) if op < 64 else 0
    if size == 0 or op in (isa.OP_LWL, isa.OP_LWR, isa.OP_SWL, isa.OP_SWR, isa.OP_LL, isa.OP_SC):
        reflect(p, vcpu, epc, bd, cs.EXC_DBE)
        return
    rt = (inst >> 16) & 31
    base, dev = vcpu.vm.device_at(gpa)
    vcpu.stats["mmio"] += 1
    if dev is None:
        reflect(p, vcpu, epc, bd, cs.EXC_DBE)
        return
    vcpu.vm.current_cpu = vcpu.index
    if isa.MEM_STORE[op]:
        dev.write(gpa - base, int(p.r[rt]) & ((1 << (8 * size)) - 1), size)
    else:
        value = dev.read(gpa - base, size) & M32
        if rt:
            p.r[rt] = extend_load(op, value)
    vcpu.vm._update_irqs()
    step_past(mon, p, vcpu, epc, bd)
