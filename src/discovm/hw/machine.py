"""The bare machine: CPUs, memory and devices, and the loop that runs them.

The compiled engine runs one CPU at a time until it needs the machine (a device access, a
WAIT, the end of a time slice); this module answers in Python and resumes it.  Everything
here is deterministic in simulated time: the same program and input give the same output
and the same counters.
"""

import os
import sys

import numpy as np

from . import cpu_state as cs
from . import engine, physmap
from .elf_loader import load_elf, LoadError  # noqa: F401  (re-exported for the CLI)
from .mmu import update_context
from .syscon import Syscon
from .uart import Uart

SLICE = 1_000_000            # cycles a CPU runs before the machine looks around


class MachineError(Exception):
    """Something the guest did that stops the machine (reported without a traceback)."""


class Machine:
    def __init__(self, mem_size=64 << 20, console=None):
        if mem_size < (1 << 20) or mem_size % 4096:
            raise MachineError("memory size must be a multiple of 4 KiB and at least 1 MiB")
        self.mem_size = mem_size
        # Host memory: RAM, then the boot ROM.  One byte array, three views for the engine.
        self.mem = np.zeros(mem_size + physmap.ROM_SIZE, np.uint8)
        self.ram32 = self.mem.view(np.uint32)
        self.ram16 = self.mem.view(np.uint16)
        self.cpus = [cs.CpuState(0)]
        self.console = console if console is not None else _stdout_sink()
        self.uart = Uart(self.console)
        self.syscon = Syscon()
        self.devices = [(physmap.UART_BASE, 0x100, self.uart),
                        (physmap.SYSCON_BASE, 0x100, self.syscon)]
        self.input = None            # callable returning newly arrived console bytes, or b""
        self._setup_cpus()
        self._install_rom()

    # ---- memory ------------------------------------------------------------------------
    def host_offset(self, paddr, size):
        """Offset in ``self.mem`` of physical RAM/ROM [paddr, paddr+size), or error."""
        for base, length in physmap.ram_ranges(self.mem_size):
            if base <= paddr and paddr + size <= base + length:
                return paddr - base + (0 if base == 0 else physmap.DEVICE_WINDOW)
        if physmap.ROM_BASE <= paddr and paddr + size <= physmap.ROM_BASE + physmap.ROM_SIZE:
            return self.mem_size + paddr - physmap.ROM_BASE
        raise LoadError(f"physical range 0x{paddr:08x}-0x{paddr + size:08x} is not in RAM "
                        f"({self.mem_size >> 20} MiB)")

    def write_phys(self, paddr, data):
        off = self.host_offset(paddr, len(data))
        self.mem[off:off + len(data)] = np.frombuffer(bytes(data), np.uint8)

    def read_phys(self, paddr, size):
        off = self.host_offset(paddr, size)
        return self.mem[off:off + size].tobytes()

    def _setup_cpus(self):
        low = min(self.mem_size, physmap.DEVICE_WINDOW)
        for cpu in self.cpus:
            s = cpu.s
            s[cs.S_RAM_SIZE] = self.mem_size
            s[cs.S_RAM_LO_END] = low
            s[cs.S_ROM_BASE] = self.mem_size
            s[cs.S_LIMIT] = 0
            update_context(cpu.cp0, s)

    def _install_rom(self):
        """A boot ROM whose only job is to report an exception taken while Status.BEV is
        set (no handler installed yet): it powers the machine off with status 0xFE."""
        # lui t0,0xbf00; ori t0,t0,0x1000; li t1,0xfe; sw t1,0(t0); b .; nop
        stop = [0x3C08BF00, 0x35081000, 0x240900FE, 0xAD090000, 0x1000FFFF, 0]
        for offset in (0x000, 0x200, 0x380, 0x400):
            for k, word in enumerate(stop):
                self.ram32[(self.mem_size + offset) // 4 + k] = word

    # ---- boot --------------------------------------------------------------------------
    def load_kernel(self, path, dtb=None):
        """Load an ELF and set CPU 0 up by the UHI convention (a0 = -2, a1 = device tree)."""
        entry, top = load_elf(path, self.write_phys)
        cpu = self.cpus[0]
        cpu.set_pc(entry)
        cpu.r[4] = 0xFFFFFFFE                        # a0 = -2: UHI boot
        if dtb is not None:
            addr = (top + 0xFFFF) & ~0xFFFF
            self.write_phys(addr, dtb)
            cpu.r[5] = 0x80000000 | addr             # a1 = kseg0 address of the tree
        return entry

    # ---- devices -----------------------------------------------------------------------
    def _mmio(self, cpu):
        s = cpu.s
        pa = int(s[cs.S_MMIO_PA])
        for base, size, dev in self.devices:
            if base <= pa < base + size:
                if s[cs.S_MMIO_WRITE]:
                    dev.write(pa - base, int(s[cs.S_MMIO_VALUE]))
                else:
                    s[cs.S_MMIO_VALUE] = dev.read(pa - base) & 0xFFFFFFFF
                break
        else:
            s[cs.S_MMIO_VALUE] = -1                  # nothing there: bus error
        s[cs.S_MMIO_DONE] = 1
        self._update_irqs()

    def _update_irqs(self):
        lines = (1 << physmap.IRQ_UART) if self.uart.irq() else 0
        cpu = self.cpus[0]
        if int(cpu.s[cs.S_IRQ_LINES]) != lines:
            cpu.s[cs.S_IRQ_LINES] = lines
            cpu.s[cs.S_EVENT_AT] = 0

    def _poll_input(self):
        if self.input is not None:
            data = self.input()
            if data:
                self.uart.receive(data)
                self._update_irqs()

    # ---- running -----------------------------------------------------------------------
    def run(self, max_instructions=None):
        """Run until the guest powers off; returns its exit status.

        Raises MachineError if the guest runs past ``max_instructions`` or waits for an
        interrupt that can never come.
        """
        cpu = self.cpus[0]
        s = cpu.s
        if os.environ.get("NUMBA_DISABLE_JIT") == "1":
            np.seterr(over="ignore")                 # plain-Python int64 arithmetic wraps
        while self.syscon.exit_status is None:
            limit = int(s[cs.S_CYCLE]) + SLICE
            if max_instructions is not None:
                budget = max_instructions - self.instructions(cpu)
                if budget <= 0:
                    raise MachineError(f"stopped after {self.instructions(cpu)} instructions "
                                       "(--max-instructions); the guest did not power off")
                limit = min(limit, int(s[cs.S_CYCLE]) + budget)
            s[cs.S_LIMIT] = limit
            s[cs.S_EVENT_AT] = min(int(s[cs.S_EVENT_AT]), limit)
            reason = engine.run(cpu.r, cpu.cp0, s, cpu.tlb, cpu.stag, cpu.spa,
                                self.ram32, self.ram16, self.mem)
            if reason == engine.R_MMIO:
                self._mmio(cpu)
            elif reason == engine.R_WAIT:
                self._idle(cpu)
            elif reason == engine.R_LIMIT:
                self._poll_input()
            if self.syscon.reset_requested:
                raise MachineError("the guest asked for a reset (not supported yet)")
        return self.syscon.exit_status

    def _idle(self, cpu):
        """WAIT: skip simulated time to the next event that can raise an interrupt."""
        s = cpu.s
        self._poll_input()
        if engine_pending(cpu):
            return
        wake = int(s[cs.S_TIMER_AT])
        if wake >= 1 << 61:
            raise MachineError("the CPU waits for an interrupt that nothing will raise")
        skip = max(0, min(wake, int(s[cs.S_LIMIT])) - int(s[cs.S_CYCLE]))
        s[cs.S_CYCLE] += skip
        s[cs.S_IDLE] += skip

    # ---- counters ----------------------------------------------------------------------
    @staticmethod
    def instructions(cpu):
        s = cpu.s
        exc = int(s[cs.S_EXC_COUNT:cs.S_EXC_COUNT + 32].sum())
        return int(s[cs.S_CYCLE]) - int(s[cs.S_IDLE]) - exc + int(s[cs.S_INTERRUPTS])

    def stats(self):
        cpus = []
        for cpu in self.cpus:
            s = cpu.s
            exc = {cs.EXC_NAMES.get(k, str(k)): int(s[cs.S_EXC_COUNT + k])
                   for k in range(32) if s[cs.S_EXC_COUNT + k]}
            cpus.append({
                "cpu": int(s[cs.S_CPUNUM]),
                "instructions": self.instructions(cpu),
                "cycles": int(s[cs.S_CYCLE]),
                "idle_cycles": int(s[cs.S_IDLE]),
                "exceptions": exc,
                "tlb_refills": int(s[cs.S_TLB_REFILLS]),
                "interrupts": int(s[cs.S_INTERRUPTS]),
                "software_tlb_misses": int(s[cs.S_STLB_MISSES]),
                "device_accesses": int(s[cs.S_MMIO_COUNT]),
            })
        total = {k: sum(c[k] for c in cpus) for k in
                 ("instructions", "cycles", "tlb_refills", "interrupts", "device_accesses")}
        exc_total = {}
        for c in cpus:
            for k, v in c["exceptions"].items():
                exc_total[k] = exc_total.get(k, 0) + v
        return {**total, "exceptions": exc_total, "cpus": cpus,
                "uart": {"tx_bytes": self.uart.tx_count, "rx_bytes": self.uart.rx_count}}


def engine_pending(cpu):
    """True if an enabled-or-not interrupt is pending: WAIT would end at once."""
    from .exceptions import pending_interrupts
    ip = int(pending_interrupts(cpu.cp0, cpu.s))
    if int(cpu.s[cs.S_CYCLE]) >= int(cpu.s[cs.S_TIMER_AT]):
        return True
    return bool(ip & int(cpu.cp0[cs.C0_STATUS]) & 0xFF00)


def _stdout_sink():
    out = sys.stdout.buffer

    def sink(byte):
        out.write(bytes((byte,)))
        if byte == 10:
            out.flush()
    return sink
