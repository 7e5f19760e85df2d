"""The bare machine: CPUs, memory and devices, and the loop that runs them.

The compiled engine runs one CPU at a time until it needs the machine (a device access, a
WAIT, the end of a time slice); this module answers in Python and resumes it.  Everything
here is deterministic in simulated time: the same program and input give the same output
and the same counters.
"""

import heapq
import os
import sys
import time

import numpy as np

from . import cpu_state as cs
from . import engine, physmap
from .boot import load_kernel
from .elf_loader import LoadError
from .cache import P_LOCAL, P_REMOTE, CacheModel, dma_write
from .exceptions import pending_interrupts
from .ipi import IpiDevice
from .mmu import update_context
from .syscon import Syscon
from .uart import Uart

SLICE = 1_000_000            # cycles a lone CPU runs before the machine looks around
QUANTUM_SMP = 20_000         # cycles each CPU of a multiprocessor runs in turn


class MachineError(Exception):
    """Something the guest did that stops the machine (reported without a traceback)."""


class DmaError(Exception):
    """A device was asked to move data to or from an address that is not RAM."""


class Machine:
    """A bare machine: ``ncpus`` MIPS CPUs sharing ``mem_size`` bytes of RAM, and devices.

    CPUs run one after another in quanta of simulated cycles (all of them reach the end of
    a quantum before any goes further), which keeps a run deterministic and makes device
    time simply the quantum's end.
    """

    def __init__(self, mem_size=64 << 20, ncpus=1, nodes=1, timing=None, console=None,
                 clock_hz=200_000_000):
        if mem_size < (1 << 20) or mem_size % 4096:
            raise MachineError("memory size must be a multiple of 4 KiB and at least 1 MiB")
        if not 1 <= ncpus <= 32:
            raise MachineError("a machine has 1 to 32 CPUs")
        if not 1 <= nodes <= ncpus or ncpus % nodes:
            raise MachineError("NUMA nodes must divide the CPUs evenly (1 <= nodes <= cpus)")
        self.nodes = nodes
        self.clock_hz = clock_hz     # Count runs at half of it; the device tree says so
        self.mem_size = mem_size
        # Host memory: RAM, then the boot ROM.  One byte array, three views for the engine.
        self.mem = np.zeros(mem_size + physmap.ROM_SIZE, np.uint8)
        self.ram32 = self.mem.view(np.uint32)
        self.ram16 = self.mem.view(np.uint16)
        self.cpus = [cs.CpuState(i) for i in range(ncpus)]
        self.running = [i == 0 for i in range(ncpus)]
        self.current_cpu = 0
        # A small quantum bounds how late an IPI is seen; one CPU needs none.
        self.quantum = SLICE if ncpus == 1 else QUANTUM_SMP
        self.time = 0                # global simulated time: end of the last quantum
        self.console = console if console is not None else _stdout_sink()
        self.uart = Uart(self.console)
        self.syscon = Syscon()
        self.ipi = IpiDevice(self)
        self.devices = [(physmap.UART_BASE, 0x100, self.uart),
                        (physmap.SYSCON_BASE, 0x100, self.syscon),
                        (physmap.IPI_BASE, 0x100, self.ipi)]
        # Timing mode: a cache model per CPU over NUMA memory (hw/cache.py); functional
        # mode passes None and runs the loop compiled without it.
        self.cache = None
        self.tm = None
        if timing is not None:
            try:
                self.cache = CacheModel(ncpus, len(self.mem), nodes, **timing)
            except (TypeError, ValueError) as e:
                raise MachineError(f"timing mode: {e}") from None
            self.tm = self.cache.engine_args()
        self._events = []            # (due time, sequence, callback): device completions
        self._quantum_end = None     # end of the quantum being run (None between quanta)
        self._seq = 0
        self.input = None            # callable returning newly arrived console bytes, or b""
        self.input_open = lambda: False
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
            s[cs.S_NODE] = int(s[cs.S_CPUNUM]) * self.nodes // len(self.cpus)
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
    def load_kernel(self, path, dtb=None, unpack=True):
        """Load a guest ELF for CPU 0 (see :func:`discovm.hw.boot.load_kernel`)."""
        return load_kernel(self, self.cpus[0], path, dtb, unpack)

    def boot_area_top(self):
        """End of the RAM a booting kernel can reach through kseg0 (the first 256 MiB)."""
        return min(self.mem_size, 256 << 20)

    def start_cpu(self, n, pc, arg):
        """Release CPU ``n`` (IPI device START): kernel mode, exceptions at EBase."""
        cpu = self.cpus[n]
        if self.running[n]:
            return
        cpu.reset()
        cpu.cp0[cs.C0_STATUS] = 0
        update_context(cpu.cp0, cpu.s)
        cpu.set_pc(pc)
        cpu.r[4] = arg
        cpu.s[cs.S_CYCLE] = max(int(cpu.s[cs.S_CYCLE]), self.time)
        self.running[n] = True

    def stop_cpu(self, n):
        self.running[n] = False

    # ---- devices -----------------------------------------------------------------------
    def _mmio(self, cpu):
        s = cpu.s
        pa = int(s[cs.S_MMIO_PA])
        for base, size, dev in self.devices:
            if base <= pa < base + size:
                size = int(s[cs.S_MMIO_SIZE])
                if s[cs.S_MMIO_WRITE]:
                    dev.write(pa - base, int(s[cs.S_MMIO_VALUE]), size)
                else:
                    s[cs.S_MMIO_VALUE] = dev.read(pa - base, size) & 0xFFFFFFFF
                break
        else:
            s[cs.S_MMIO_VALUE] = -1                  # nothing there: bus error
        s[cs.S_MMIO_DONE] = 1
        self._update_irqs()

    def add_device(self, base, size, device):
        """Attach ``device`` (``read(offset, size)``, ``write(offset, value, size)``, and
        ``irq_line`` with ``irq()`` if it interrupts) at physical ``base``."""
        self.devices.append((base, size, device))

    def _update_irqs(self):
        """Recompute every CPU's interrupt lines from the devices' levels."""
        shared = 0
        for _, _, dev in self.devices:
            line = getattr(dev, "irq_line", None)
            if line is not None and dev.irq():
                shared |= 1 << line
        for n, cpu in enumerate(self.cpus):
            lines = shared if n == 0 else 0          # devices interrupt the boot CPU
            if self.ipi.irq(n):
                lines |= 1 << physmap.IRQ_IPI
            if int(cpu.s[cs.S_IRQ_LINES]) != lines:
                cpu.s[cs.S_IRQ_LINES] = lines
                cpu.s[cs.S_EVENT_AT] = 0

    # ---- device time and DMA ------------------------------------------------------------
    def now(self):
        """Simulated time as a device sees it: during a CPU's quantum (a device access),
        that CPU's cycle counter; between quanta (device events), the machine's time."""
        if self._quantum_end is None:
            return self.time
        return max(self.time, int(self.cpus[self.current_cpu].s[cs.S_CYCLE]))

    def schedule(self, delay, callback):
        """Call ``callback()`` once ``delay`` cycles of simulated time have passed, counted
        from now().  Devices run between quanta, so a quantum in progress is cut short to
        end when the event is due."""
        self._seq += 1
        due = self.now() + max(1, int(delay))
        heapq.heappush(self._events, (due, self._seq, callback))
        if self._quantum_end is not None:
            self._quantum_end = min(self._quantum_end, due)

    def _run_events(self):
        while self._events and self._events[0][0] <= self.time:
            _, _, callback = heapq.heappop(self._events)
            callback()
        self._update_irqs()

    def next_event(self):
        return self._events[0][0] if self._events else None

    def dma_read(self, paddr, size):
        """Bytes a device reads from machine memory; DmaError outside RAM."""
        return self._dma_range(paddr, size).tobytes()

    def dma_write(self, paddr, data):
        view = self._dma_range(paddr, len(data))
        view[:] = np.frombuffer(bytes(data), np.uint8)
        if self.tm is not None:
            dma_write(self.tm, int(view.ctypes.data - self.mem.ctypes.data), len(data))

    def _dma_range(self, paddr, size):
        for base, length in physmap.ram_ranges(self.mem_size):
            if base <= paddr and paddr + size <= base + length:
                off = paddr - base + (0 if base == 0 else physmap.DEVICE_WINDOW)
                return self.mem[off:off + size]
        raise DmaError(f"DMA to 0x{paddr:08x}+{size} is outside RAM")

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
        if os.environ.get("NUMBA_DISABLE_JIT") == "1":
            np.seterr(over="ignore")                 # plain-Python int64 arithmetic wraps
        smp = len(self.cpus) > 1
        while self.syscon.exit_status is None:
            end = self.time + self.quantum
            if self._events:                         # stop when the next device event is due
                end = max(self.time + 1, min(end, self._events[0][0]))
            if max_instructions is not None:
                done = self.total_attempts()
                if done >= max_instructions:
                    raise MachineError(f"stopped after {done} instructions "
                                       "(--max-instructions); the guest did not power off")
                end = min(end, self.time + max_instructions - done)
            all_idle = True
            self._quantum_end = end                  # schedule() may bring it forward
            for n, cpu in enumerate(self.cpus):
                if not self.running[n]:
                    cpu.s[cs.S_CYCLE] = max(int(cpu.s[cs.S_CYCLE]), self._quantum_end)
                    continue
                self.current_cpu = n
                if smp:
                    cpu.s[cs.S_LLBIT] = 0            # another CPU may have written the line
                if not self._run_cpu(cpu):
                    all_idle = False
                if self.syscon.exit_status is not None:
                    break
            end, self._quantum_end = self._quantum_end, None
            self.time = end
            self._run_events()
            self._flush_console()
            self._poll_input()
            if all_idle and not self._events and \
                    not any(c.s[cs.S_TIMER_AT] < 1 << 61 for c in self._live()) and \
                    not any(wait_ends(c) for c in self._live()):   # an event just raised one
                if not self.input_open():
                    raise MachineError("every CPU waits for an interrupt that nothing "
                                       "will raise")
                time.sleep(0.01)                     # waiting for the user to type
            if self.syscon.reset_requested:
                raise MachineError("the guest asked for a reset (not supported yet)")
        self._flush_console()
        return self.syscon.exit_status

    def _live(self):
        return [c for n, c in enumerate(self.cpus) if self.running[n]]

    def _run_cpu(self, cpu):
        """Run one CPU to the end of the quantum; returns True if it spent the time idle
        in WAIT.  (The end is re-read: a device access may schedule an earlier event.)"""
        s = cpu.s
        idle = False
        while self.running[cpu.s[cs.S_CPUNUM]] and int(s[cs.S_CYCLE]) < self._quantum_end \
                and self.syscon.exit_status is None:
            end = self._quantum_end
            s[cs.S_LIMIT] = end
            s[cs.S_EVENT_AT] = min(int(s[cs.S_EVENT_AT]), end)
            reason = engine.run(cpu.r, cpu.cp0, s, cpu.tlb, cpu.stag, cpu.spa,
                                self.ram32, self.ram16, self.mem, self.tm)
            idle = False
            if reason == engine.R_MMIO:
                self._mmio(cpu)
            elif reason == engine.R_WAIT:
                idle = self._idle(cpu, end)
        return idle

    def _idle(self, cpu, end):
        """WAIT: skip simulated time to the next event that can raise an interrupt."""
        s = cpu.s
        if wait_ends(cpu):
            return False
        wake = min(int(s[cs.S_TIMER_AT]), end)
        if self._events:                             # a device completion may interrupt
            wake = min(wake, max(self._events[0][0], int(s[cs.S_CYCLE])))
        skip = max(0, wake - int(s[cs.S_CYCLE]))
        s[cs.S_CYCLE] += skip
        s[cs.S_IDLE] += skip
        return True

    def _flush_console(self):
        flush = getattr(self.console, "flush", None)
        if flush:
            flush()

    # ---- counters ----------------------------------------------------------------------
    @staticmethod
    def instructions(cpu):
        """Instructions completed: cycles not spent idle, waiting for memory, or on
        instructions that faulted."""
        s = cpu.s
        exc = int(s[cs.S_EXC_COUNT:cs.S_EXC_COUNT + 32].sum())
        return (int(s[cs.S_CYCLE]) - int(s[cs.S_IDLE]) - int(s[cs.S_STALL]) - exc
                + int(s[cs.S_INTERRUPTS]) - int(s[cs.S_HANDLER]))

    def total_instructions(self):
        return sum(self.instructions(c) for c in self.cpus)

    def total_attempts(self):
        """Instructions completed plus instructions that faulted (exceptions other than
        interrupts): what --max-instructions bounds.  A guest whose exception vector is
        garbage faults on every instruction and completes none, and must be stopped too."""
        return sum(self.instructions(c) + int(c.s[cs.S_EXC_COUNT:cs.S_EXC_COUNT + 32].sum())
                   - int(c.s[cs.S_INTERRUPTS]) for c in self.cpus)

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
                "stall_cycles": int(s[cs.S_STALL]),
                "handler_cycles": int(s[cs.S_HANDLER]),
                "exceptions": exc,
                "tlb_refills": int(s[cs.S_TLB_REFILLS]),
                "interrupts": int(s[cs.S_INTERRUPTS]),
                "software_tlb_misses": int(s[cs.S_STLB_MISSES]),
                "device_accesses": int(s[cs.S_MMIO_COUNT]),
            })
            if self.cache is not None:
                cpus[-1]["node"] = int(s[cs.S_NODE])
                cpus[-1]["cache"] = {
                    "hits": int(s[cs.S_CACHE_HITS]), "misses_local": int(s[cs.S_MISS_LOCAL]),
                    "misses_remote": int(s[cs.S_MISS_REMOTE]),
                    "invalidations": int(s[cs.S_CACHE_INVALIDATIONS])}
        total = {k: sum(c[k] for c in cpus) for k in
                 ("instructions", "cycles", "tlb_refills", "interrupts", "device_accesses")}
        exc_total = {}
        for c in cpus:
            for k, v in c["exceptions"].items():
                exc_total[k] = exc_total.get(k, 0) + v
        numa = {}
        if self.cache is not None:
            per_page = self.cache.page_misses()
            pages = np.nonzero(per_page.sum(axis=1))[0]
            # FLASH-style counters: misses per machine page per node (non-zero pages only)
            numa = {"page_misses": {f"0x{int(p) << 12:08x}": per_page[p].tolist()
                                    for p in pages},
                    "latency_cycles": {"local": int(self.cache.params[P_LOCAL]),
                                       "remote": int(self.cache.params[P_REMOTE])}}
        # Per-device counters of devices that keep them (RTC, virtio slots in use)
        devices = {}
        for base, _, dev in self.devices:
            counters = dev.stats() if hasattr(dev, "stats") else None
            if counters is not None:
                devices[getattr(dev, "name", None) or f"0x{base:08x}"] = counters
        return {**total, "exceptions": exc_total, "cpus": cpus, **numa,
                "uart": {"tx_bytes": self.uart.tx_count, "rx_bytes": self.uart.rx_count},
                "ipi": {"sent": self.ipi.sent}, "devices": devices}


def wait_ends(cpu):
    """True if WAIT would end at once: an unmasked interrupt is pending (Status.IE need not
    be set, as on MIPS cores that leave WAIT on any pending interrupt)."""
    ip = int(pending_interrupts(cpu.cp0, cpu.s))
    if int(cpu.s[cs.S_CYCLE]) >= int(cpu.s[cs.S_TIMER_AT]):
        return True
    return bool(ip & int(cpu.cp0[cs.C0_STATUS]) & 0xFF00)


class _StdoutSink:
    """The console: bytes the guest transmits, written to our stdout."""

    def __init__(self):
        self.out = sys.stdout.buffer

    def __call__(self, byte):
        self.out.write(bytes((byte,)))
        if byte == 10:
            self.out.flush()

    def flush(self):
        self.out.flush()


def _stdout_sink():
    return _StdoutSink()
