"""The monitor: runs virtual machines on the machine's CPUs (paper section 4).

The monitor owns kernel mode.  It puts a VCPU on a physical CPU by loading its registers
and setting the CPU up for the guest's current mode (guest kernel -> supervisor mode,
guest user -> user mode, interrupts off, ``S_EXIT_ON_EXC`` so that every exception comes
back here), then lets the engine run it.  VCPUs are time-shared over the CPUs in quanta;
a VCPU in WAIT is passed over until an interrupt is posted to it; when another VCPU is
put on a CPU its hardware TLB is flushed (ASIDs are not virtualized, paper 4.2.2).

Segmentation control makes the guest's "unmapped" kseg0 and kseg1 mapped segments that
supervisor mode may use, so an unmodified kernel linked for kseg0 runs in supervisor mode
with its kseg0 translated through the pmap (paper 4.3.1, done by the hardware).  When the
guest itself is in supervisor mode those segments are switched back to kernel-only, so it
sees the address errors the architecture promises.
"""

import numpy as np

from ..hw import cpu_state as cs
from ..hw import engine
from ..hw.exceptions import pending_interrupts
from ..hw.machine import DmaError
from .fastpath import (EMULATED_KINDS, F_EMULATED, F_INTERRUPTS, F_L2TLB_HITS,
                       F_L2TLB_MISSES, F_LARGE_FILLS, F_PMAP_FILLS, F_TLB_FILLS,
                       F_TRAP_CPU, F_TRAP_TLBL, F_TRAP_TLBS)
from .fastpath import A_MODE, A_ROLLOVERS, N_ASID_STATE
from .fastpath import charge, flush_tlb, forget_range, map_page, run_guest, sync_mode
from . import costs
from .pmap import MachineMemory, OutOfMemory
from .trap import GuestFault, handle_trap, map_guest_page, resume
from .vcpu import RUNNABLE, WAITING
from .vm import VirtualMachine, VmError

QUANTUM_SMP = 50_000      # cycles per VCPU turn on a multiprocessor (bounds IPI latency)


class Monitor:
    def __init__(self, machine, asid_reuse=False):
        self.machine = machine
        # the TLB on a world switch: flushed (paper 4.2.2), or kept with machine ASIDs
        # per VCPU (ASID-preserving reuse, fastpath.machine_asid); one allocator per CPU
        self.asid_reuse = asid_reuse
        self.asids = [np.zeros(N_ASID_STATE, np.int64) for _ in machine.cpus]
        for a in self.asids:
            a[A_MODE] = 1 if asid_reuse else 0
        self.tlb_flushes = [0] * len(machine.cpus)
        self.memory = MachineMemory(machine)
        self.vms = []
        self.on_cpu = [None] * len(machine.cpus)        # VCPU loaded on each CPU
        self.queues = [[] for _ in machine.cpus]         # run queue of each CPU
        # one CPU: as long a turn as the bare machine's; several: short, for IPIs
        self.quantum = machine.quantum if len(machine.cpus) == 1 else QUANTUM_SMP
        self.console_vm = None                           # name of the VM that gets input
        self.console_live = False                        # a person types: show prompts
        self.round = 0                                   # scheduling rounds (quanta)
        machine.current_vm = None
        for p in machine.cpus:
            p.s[cs.S_EXIT_ON_EXC] = 1

    # ---- building VMs -------------------------------------------------------------------
    def create_vm(self, name, mem_size, nvcpus=1, console=None):
        vm = VirtualMachine(self, len(self.vms), name, mem_size, nvcpus,
                            console or self.machine.console)
        self.vms.append(vm)
        ncpus = len(self.machine.cpus)
        for vcpu in vm.vcpus:
            # Spread VCPUs over CPUs; a VCPU's memory comes from its CPU's node.
            k = sum(len(q) for q in self.queues) % ncpus
            self.queues[k].append(vcpu)
            vcpu.node = self._node(k)
        return vm

    def _node(self, n):
        return int(self.machine.cpus[n].s[cs.S_NODE])

    def dma_error(self, message):
        return DmaError(message)

    # ---- putting a VCPU on a CPU -----------------------------------------------------------
    def switch_to(self, p, n, vcpu):
        old = self.on_cpu[n]
        if old is vcpu:
            return
        if old is not None:
            self.save(p, old)
        if not self.asid_reuse:
            self.flush_tlb(p)                            # paper 4.2.2: flush on switch
            self.tlb_flushes[n] += 1
        elif vcpu.pcpu != n:
            # Its machine ASIDs on this CPU are from before it ran elsewhere, where its
            # guest TLB may have changed: it takes fresh ones here.
            vcpu.hwasid[:] = -1
        v = vcpu.v
        p.r[:] = v.r
        p.s[cs.S_PC] = v.s[cs.S_PC]
        p.s[cs.S_NPC] = v.s[cs.S_NPC]
        p.s[cs.S_BRANCH_PC] = v.s[cs.S_BRANCH_PC]
        p.s[cs.S_LLBIT] = 0
        p.cp0[cs.C0_USERLOCAL] = v.cp0[cs.C0_USERLOCAL]
        # rdhwr $29 (TLS) runs natively when the guest allows it; the rest trap.
        p.cp0[cs.C0_HWRENA] = int(v.cp0[cs.C0_HWRENA]) & (1 << 29)
        self.on_cpu[n] = vcpu
        vcpu.pcpu = n
        vcpu.stats["world_switches"] += 1
        self.sync_mode(p, vcpu)

    def save(self, p, vcpu):
        v = vcpu.v
        v.r[:] = p.r
        v.s[cs.S_PC] = p.s[cs.S_PC]
        v.s[cs.S_NPC] = p.s[cs.S_NPC]
        v.s[cs.S_BRANCH_PC] = p.s[cs.S_BRANCH_PC]

    def sync_mode(self, p, vcpu):
        """Set the physical CPU up for the guest's current mode and ASID."""
        sync_mode(p.cp0, p.s, p.tlb, p.stag, vcpu.v.cp0, vcpu.v.s, vcpu.hwasid,
                  self.asids[vcpu.pcpu])

    def map_page(self, p, vcpu, va):
        """Write the hardware TLB entry for guest address ``va`` (its pages backed)."""
        v = vcpu.v
        return map_page(p.cp0, p.s, p.tlb, p.stag, v.cp0, v.s, v.tlb, vcpu.vm.pmap.mpage,
                        vcpu.l2tag, vcpu.l2val, vcpu.fstats, self.asids[vcpu.pcpu], va)

    def flush_tlb(self, p, vcpu=None):
        flush_tlb(p.tlb, p.stag)
        if vcpu is not None:
            vcpu.l2tag[:] = -1

    def forget_guest_mapping(self, p, vcpu, old_entry):
        """The guest replaced a TLB entry: drop the hardware and L2TLB entries made from it."""
        mask = int(old_entry[1]) | 0x1FFF
        forget_range(p.tlb, p.stag, vcpu.l2tag, int(old_entry[0]) & ~mask & 0xFFFFFFFF,
                     mask + 1)

    def single_step(self, p, vcpu):
        """Execute one instruction (a branch) and return the address it continues at
        after its delay slot (see trap.step_past).  The branch's own page may have left
        the hardware TLB since it ran (the fill for its delay slot can evict it): then
        map it again and retry."""
        pc = int(p.s[cs.S_PC])
        for _ in range(3):
            p.s[cs.S_LIMIT] = int(p.s[cs.S_CYCLE]) + 1
            p.s[cs.S_EVENT_AT] = p.s[cs.S_LIMIT]
            reason = engine.run(p.r, p.cp0, p.s, p.tlb, p.stag, p.spa, self.machine.ram32,
                                self.machine.ram16, self.machine.mem, self.machine.tm)
            if reason == engine.R_LIMIT:
                return int(p.s[cs.S_NPC])
            exc = (int(p.cp0[cs.C0_CAUSE]) >> 2) & 31
            if reason != engine.R_EXCEPTION or exc != cs.EXC_TLBL or \
                    not map_guest_page(self, p, vcpu, int(p.cp0[cs.C0_BADVADDR])):
                break
            self.sync_mode(p, vcpu)
            resume(p, pc)
        raise GuestFault("a branch before an emulated instruction faulted")

    def vcpu_waits(self, vcpu):
        if not self._interrupt_pending(vcpu):
            vcpu.state = WAITING

    def _interrupt_pending(self, vcpu):
        v = vcpu.v
        if int(v.s[cs.S_CYCLE]) >= int(v.s[cs.S_TIMER_AT]):
            return True
        return bool(int(pending_interrupts(v.cp0, v.s)) & int(v.cp0[cs.C0_STATUS]) & 0xFF00)

    # ---- running ------------------------------------------------------------------------------
    def run(self, max_instructions=None):
        m = self.machine
        while any(vm.alive for vm in self.vms):
            end = m.time + self.quantum
            if m._events:
                end = max(m.time + 1, min(end, m._events[0][0]))
            m._quantum_end = end
            self.round += 1
            for n, p in enumerate(m.cpus):
                vcpu = self._pick(n, p)
                m.current_cpu = n
                if vcpu is None:
                    p.s[cs.S_CYCLE] = max(int(p.s[cs.S_CYCLE]), m._quantum_end)
                    p.s[cs.S_IDLE] += max(0, m._quantum_end - int(p.s[cs.S_CYCLE]))
                    continue
                self.switch_to(p, n, vcpu)
                self._run_vcpu(p, vcpu)
            m.time, m._quantum_end = m._quantum_end, None
            for p in m.cpus:                 # a CPU whose VCPU stopped early idled
                p.s[cs.S_IDLE] += max(0, m.time - int(p.s[cs.S_CYCLE]))
                p.s[cs.S_CYCLE] = max(int(p.s[cs.S_CYCLE]), m.time)
            m._run_events()
            self._console_input()
            for vm in self.vms:
                vm._update_irqs()
            self._wake_waiters()
            self._flush_consoles()
            if max_instructions is not None and m.total_attempts() >= max_instructions:
                for vm in self.vms:
                    if vm.alive:
                        vm.error = f"stopped after {max_instructions} instructions"
            if all(v.state != RUNNABLE for vm in self.vms if vm.alive for v in vm.vcpus) \
                    and not m._events and any(vm.alive for vm in self.vms):
                self._skip_idle_time()
        self._end_at_last_power_off()
        for vm in self.vms:
            close = getattr(vm.console, "close", None)
            if close:
                close()
        m._flush_console()
        return self.vms

    def _end_at_last_power_off(self):
        """The run ends when the last VM stopped, not at the end of that quantum: take
        back the idle time the CPUs were credited after it (so that a VM's cycles compare
        with the bare machine's, which stops at power-off)."""
        ends = [vm.end_cycle for vm in self.vms]
        if not ends or None in ends:
            return
        final = max(ends)
        for p in self.machine.cpus:
            excess = int(p.s[cs.S_CYCLE]) - final
            if excess > 0:
                p.s[cs.S_IDLE] -= min(excess, int(p.s[cs.S_IDLE]))
                p.s[cs.S_CYCLE] = final
        self.machine.time = final

    def _flush_consoles(self):
        for vm in self.vms:
            if hasattr(vm.console, "interactive"):
                vm.console.interactive = self.console_live and vm.name == self.console_vm
            flush = getattr(vm.console, "flush", None)
            if flush:
                flush()
        self.machine._flush_console()

    def _console_input(self):
        """What the user types goes to the UART of the VM that has the console."""
        data = self.machine.input() if self.machine.input else b""
        if data:
            for vm in self.vms:
                if vm.name == self.console_vm:
                    vm.uart.receive(data)

    # ---- scheduling (paper 4.2.1: time-sharing, with affinity to the memory's node) ----
    def _pick(self, n, p):
        """The VCPU CPU ``n`` runs this round: the next runnable one of its own queue
        (round robin), or, if it has none, one taken from a busier CPU."""
        queue = self.queues[n]
        for k in range(len(queue)):
            vcpu = queue[0]
            queue.append(queue.pop(0))                   # round robin
            if self._ready(vcpu):
                vcpu.last_round = self.round
                return vcpu
        vcpu = self._steal(n)
        if vcpu is not None:
            vcpu.last_round = self.round
        return vcpu

    def _ready(self, vcpu):
        return vcpu.state == RUNNABLE and vcpu.vm.alive and vcpu.last_round != self.round

    def _steal(self, n):
        """An idle CPU takes a VCPU that would otherwise wait: from a CPU that already has
        one to run this round, and from its own node first, so that the VCPU stays near
        its memory.  It moves to this CPU's queue, and its new pages come from here."""
        me = self._node(n)
        order = sorted((m for m in range(len(self.queues)) if m != n),
                       key=lambda m: (self._node(m) != me, (m - n) % len(self.queues)))
        for m in order:
            ready = [v for v in self.queues[m] if self._ready(v)]
            busy = m < n or len(ready) > 1    # CPU m runs another VCPU this round
            if not ready or not busy:
                continue
            # leave CPU m the VCPU whose TLB entries it holds
            vcpu = next((v for v in ready if v is not self.on_cpu[m]), ready[0])
            self.queues[m].remove(vcpu)
            self.queues[n].append(vcpu)
            vcpu.node = self._node(n)
            vcpu.stats["migrations"] += 1
            return vcpu
        return None

    def post_interrupt(self, vcpu):
        """An interrupt was posted to ``vcpu`` (a device, or an IPI from another VCPU):
        a VCPU descheduled in WAIT becomes runnable at once, and any CPU that has not yet
        run this round may take it."""
        if vcpu.state == WAITING and self._interrupt_pending(vcpu):
            vcpu.state = RUNNABLE

    def _run_vcpu(self, p, vcpu):
        """Run ``vcpu`` on ``p`` to the end of the quantum: compiled fast paths in
        run_guest, the rest of the traps here in Python."""
        m = self.machine
        v = vcpu.v
        while vcpu.state == RUNNABLE and vcpu.vm.alive and \
                int(p.s[cs.S_CYCLE]) < m._quantum_end:
            reason = run_guest(p.r, p.cp0, p.s, p.tlb, p.stag, p.spa, m.ram32, m.ram16,
                               m.mem, m.tm, v.cp0, v.s, v.tlb, vcpu.dummy_stag,
                               vcpu.vm.pmap.mpage, vcpu.l2tag, vcpu.l2val, vcpu.fstats,
                               vcpu.hwasid, self.asids[vcpu.pcpu], m._quantum_end)
            if reason == engine.R_EXCEPTION:
                charge(p.s, costs.SLOW_TRAP)
                try:
                    handle_trap(self, p, vcpu)
                except (GuestFault, VmError, DmaError, OutOfMemory) as e:
                    vcpu.vm.error = str(e)
                # The hardware's exception entry left the CPU in kernel mode (EXL): back
                # to the guest's mode before it runs again.
                self.sync_mode(p, vcpu)
            elif reason != engine.R_LIMIT:
                vcpu.vm.error = f"monitor: unexpected engine stop {reason}"
            vm = vcpu.vm
            if vm.syscon.exit_status is not None and vm.exit_status is None:
                vm.exit_status = vm.syscon.exit_status
        if not vcpu.vm.alive and vcpu.vm.end_cycle is None:
            vcpu.vm.end_cycle = int(p.s[cs.S_CYCLE])
        v.s[cs.S_CYCLE] = p.s[cs.S_CYCLE]

    def _wake_waiters(self):
        for vm in self.vms:
            for vcpu in vm.vcpus:
                vcpu.v.s[cs.S_CYCLE] = self.machine.time
                if vcpu.state == WAITING and self._interrupt_pending(vcpu):
                    vcpu.state = RUNNABLE

    def _skip_idle_time(self):
        """Every VCPU waits: jump to the next virtual timer (paper 4.2.1: WAIT deschedules)."""
        m = self.machine
        wake = min((int(v.v.s[cs.S_TIMER_AT]) for vm in self.vms if vm.alive
                    for v in vm.vcpus if v.state == WAITING), default=1 << 62)
        if wake >= 1 << 61:
            if m.input_open():
                return
            for vm in self.vms:
                if vm.alive:
                    vm.error = "every VCPU waits for an interrupt that nothing will raise"
            return
        if wake > m.time:
            for p in m.cpus:
                p.s[cs.S_IDLE] += wake - m.time
                p.s[cs.S_CYCLE] = wake
            m.time = wake
        self._wake_waiters()

    # ---- statistics ----------------------------------------------------------------------
    def stats(self, memory=True):
        """Per VM and VCPU (paper 4.2): traps by cause, privileged instructions emulated
        by kind (fast and slow paths together), and TLB misses split into hardware
        refills, L2TLB hits, pmap fills and misses forwarded to the guest; with
        ``memory``, a digest of each VM's memory (hashing it takes a moment)."""
        out = []
        for vm in self.vms:
            vcpus = []
            for v in vm.vcpus:
                f = v.fstats
                traps = dict(v.stats["traps"])
                for key, slot in (("TLBL", F_TRAP_TLBL), ("TLBS", F_TRAP_TLBS),
                                  ("CpU", F_TRAP_CPU)):
                    if f[slot]:
                        traps[key] = traps.get(key, 0) + int(f[slot])
                emulated = dict(v.stats["emulated"])
                for k, kind in enumerate(EMULATED_KINDS):
                    if f[F_EMULATED + k]:
                        emulated[kind] = emulated.get(kind, 0) + int(f[F_EMULATED + k])
                d = dict(v.stats, vcpu=v.index, traps=traps, emulated=emulated,
                         slow_traps=v.stats["traps"])
                d["tlb"] = {"hardware_refills": int(f[F_TLB_FILLS]),
                            "large_page_refills": int(f[F_LARGE_FILLS]),
                            "l2tlb_hits": int(f[F_L2TLB_HITS]),
                            "l2tlb_misses": int(f[F_L2TLB_MISSES]),
                            "pmap_fills": int(f[F_PMAP_FILLS]),
                            "forwarded_to_guest": v.stats["guest_tlb_misses"]}
                d["virtual_interrupts"] = int(f[F_INTERRUPTS])
                vcpus.append(d)
            # The VM's virtual devices' own counters (a virtio device's errors: what a
            # driver did wrong, e.g. DMA outside the VM's memory), as machine.stats() has.
            devices = {}
            for base, _, dev in vm.devices:
                counters = dev.stats() if hasattr(dev, "stats") and dev is not vm.hal else None
                if counters is not None:
                    devices[getattr(dev, "name", None) or f"0x{base:08x}"] = counters
            out.append({"name": vm.name, "exit_status": vm.exit_status,
                        "exit_reason": vm.exit_reason, "error": vm.error,
                        "pages_allocated": vm.pmap.allocated(), "hal": vm.hal.stats(),
                        "devices": devices, "vcpus": vcpus})
            if memory:
                out[-1]["memory_sha256"] = vm.memory_digest()
        return {"vms": out, "machine_pages_used": self.memory.used(),
                "tlb_on_switch": "asid-reuse" if self.asid_reuse else "flush",
                "tlb_flushes": [f + int(a[A_ROLLOVERS])
                                for f, a in zip(self.tlb_flushes, self.asids)]}

    def table(self):
        """The statistics as a text table, one row per VCPU (printed at exit)."""
        rows = [("vm/vcpu", "exit", "traps", "emulated", "hw refills", "l2tlb hits",
                 "pmap fills", "to guest", "switches", "moves", "pages")]
        for vm, d in zip(self.vms, self.stats(memory=False)["vms"]):
            for v in d["vcpus"]:
                t = v["tlb"]
                rows.append((
                    f"{vm.name}/{v['vcpu']}",
                    "error" if vm.error else str(vm.exit_status),
                    str(sum(v["traps"].values())),
                    str(sum(v["emulated"].values())),
                    str(t["hardware_refills"]),
                    str(t["l2tlb_hits"]),
                    str(t["pmap_fills"]),
                    str(t["forwarded_to_guest"]),
                    str(v["world_switches"]),
                    str(v["migrations"]),
                    str(d["pages_allocated"])))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.rjust(w) if k else c.ljust(w)
                                   for k, (c, w) in enumerate(zip(r, widths))) for r in rows)

