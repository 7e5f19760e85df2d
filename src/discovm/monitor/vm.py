"""A virtual machine: memory (through its pmap), VCPUs, and virtual devices.

A VM sees the same machine as the bare hardware (same physical address map).  Its devices
are the hardware's own device models (UART, system controller, RTC, virtio-mmio), attached
to the VM instead of the machine: the VM offers them the same small interface the machine
does (``add_device``, ``schedule``, ``now``, ``dma_read``/``dma_write``), with DMA going
through the VM's pmap after a bounds check, as Disco translated DMA addresses
(paper 4.2.4).
"""

import hashlib

import numpy as np

from ..hw import cpu_state as cs
from ..hw import physmap
from ..hw.boot import load_kernel
from ..hw.cache import dma_write as cache_dma_write
from ..hw.ipi import IpiDevice
from ..hw.mmu import update_context
from ..hw.syscon import Syscon
from ..hw.uart import Uart
from .hal import HAL_BASE, HalDevice
from .pmap import Pmap
from .vcpu import RUNNABLE, STOPPED, VCpu


class VmError(Exception):
    """Something a guest did that stops its VM (reported per VM)."""


class GuestDmaError(Exception):
    pass


class PrefixedConsole:
    """A VM's console on the machine's output: whole lines, prefixed with ``[name] ``, so
    that several VMs' output does not interleave within a line.  A partial line (a shell
    prompt) is written when the machine flushes its console, if this VM has the user's
    attention (``interactive``)."""

    def __init__(self, name, out):
        self.prefix = f"[{name}] ".encode()
        self.out = out
        self.line = bytearray()
        self.started = False            # part of the current line was already written
        self.interactive = False

    def __call__(self, byte):
        self.line.append(byte)
        if byte == 10:
            self._emit()

    def _emit(self):
        if not self.line:
            return
        if not self.started:
            self.line[:0] = self.prefix
        for b in self.line:
            self.out(b)
        self.started = self.line[-1] != 10
        self.line.clear()

    def flush(self):
        if self.interactive:
            self._emit()
        flush = getattr(self.out, "flush", None)
        if flush:
            flush()

    def close(self):
        self._emit()
        if self.started:
            self.out(10)
            self.started = False


class BootRomView:
    """The machine's boot ROM as a VM sees it: readable, writes ignored, as on the bare
    machine.  One copy serves every VM (sharing that is read-only, paper 4.2.3); the
    monitor emulates each access (guests read their ROM rarely, if ever)."""

    def __init__(self, machine):
        self.machine = machine

    def read(self, offset, size=4):
        at = self.machine.mem_size + offset
        return int.from_bytes(self.machine.mem[at:at + size].tobytes(), "little")

    def write(self, offset, value, size=4):
        pass


class VirtualMachine:
    def __init__(self, monitor, vm_id, name, mem_size, nvcpus, console):
        if mem_size % 4096 or mem_size < (1 << 20):
            raise VmError(f"{name}: memory must be at least 1M and a multiple of 4K")
        if mem_size > physmap.DEVICE_WINDOW:
            raise VmError(f"{name}: at most {physmap.DEVICE_WINDOW >> 20} MiB per VM for now")
        self.monitor = monitor
        self.id = vm_id
        self.name = name
        self.mem_size = mem_size
        self.nodes = 1
        self.clock_hz = monitor.machine.clock_hz
        self.pmap = Pmap(monitor.memory, vm_id, mem_size)
        self.vcpus = [VCpu(self, i) for i in range(nvcpus)]
        self.cpus = [v.v for v in self.vcpus]          # for the device tree's description
        self.devices = []
        self.console = console
        self.uart = Uart(console)
        self.syscon = Syscon()
        self.add_device(physmap.UART_BASE, 0x100, self.uart)
        self.add_device(physmap.SYSCON_BASE, 0x100, self.syscon)
        self.current_cpu = 0            # the VCPU whose access a device is answering
        self.ipi = IpiDevice(self)
        self.add_device(physmap.IPI_BASE, 0x100, self.ipi)
        self.hal = HalDevice(self)                  # the Disco-aware HAL's monitor calls
        self.add_device(HAL_BASE, 0x100, self.hal)
        self.add_device(physmap.ROM_BASE, physmap.ROM_SIZE, BootRomView(monitor.machine))
        self.exit_status = None        # set when the guest powers its VM off
        self.exit_reason = None        # why, when the monitor powered it off (trap.py)
        self.error = None              # set when the monitor stopped it
        self.end_cycle = None          # machine time at which it stopped
        for v in self.vcpus:
            v.v.s[cs.S_RAM_SIZE] = mem_size
            v.v.s[cs.S_RAM_LO_END] = mem_size

    # ---- the interface devices expect from their host (as hw.machine offers) ------------
    def add_device(self, base, size, device):
        self.devices.append((base, size, device))

    def device_at(self, gpa):
        for base, size, dev in self.devices:
            if base <= gpa < base + size:
                return base, dev
        return None, None

    def now(self):
        return self.monitor.machine.now()

    def schedule(self, delay, callback):
        def run():
            callback()
            self._update_irqs()
        self.monitor.machine.schedule(delay, run)

    def _update_irqs(self):
        """Virtual interrupt lines of VCPU 0 from the virtual devices' levels."""
        lines = 0
        for _, _, dev in self.devices:
            line = getattr(dev, "irq_line", None)
            if line is not None and dev.irq():
                lines |= 1 << line
        for k, vcpu in enumerate(self.vcpus):
            mine = (lines if k == 0 else 0) | ((1 << physmap.IRQ_IPI) if self.ipi.irq(k) else 0)
            s = vcpu.v.s
            if int(s[cs.S_IRQ_LINES]) != mine:
                s[cs.S_IRQ_LINES] = mine
                s[cs.S_EVENT_AT] = 0       # look at once
                self.monitor.post_interrupt(vcpu)

    # ---- guest-physical memory ----------------------------------------------------------
    def is_ram(self, gpa, size=1):
        return 0 <= gpa and gpa + size <= self.mem_size

    def machine_offset(self, gpa, node=0):
        """Host offset of guest-physical byte ``gpa`` (allocating its page on first touch)."""
        return self.pmap.lookup(gpa >> 12, node) * 4096 + (gpa & 0xFFF)

    def _copy(self, gpa, data=None, size=None):
        n = len(data) if data is not None else size
        if not self.is_ram(gpa, n):
            raise GuestDmaError(f"guest-physical 0x{gpa:08x}+{n} is outside the VM's RAM")
        mem = self.monitor.machine.mem
        tm = self.monitor.machine.tm
        out = bytearray()
        pos = 0
        while pos < n:
            chunk = min(n - pos, 4096 - ((gpa + pos) & 0xFFF))
            off = self.machine_offset(gpa + pos)
            if data is not None:
                mem[off:off + chunk] = np.frombuffer(bytes(data[pos:pos + chunk]), np.uint8)
                if tm is not None:                 # no CPU may keep the old lines cached
                    cache_dma_write(tm, off, chunk)
            else:
                out += mem[off:off + chunk].tobytes()
            pos += chunk
        return bytes(out)

    def memory_digest(self):
        """SHA-256 of the VM's guest-physical memory as the guest sees it: every page's
        bytes through the pmap, 4096 zero bytes for a page never touched (demand-zero,
        paper 4.2.2).  It does not depend on which machine pages the VM was given, so
        the isolation tests can compare a VM's memory with and without a neighbour."""
        mem = self.monitor.machine.mem
        zero = bytes(4096)
        h = hashlib.sha256()
        for m in self.pmap.mpage.tolist():
            h.update(zero if m < 0 else mem[m * 4096:(m + 1) * 4096])
        return h.hexdigest()

    def write_phys(self, gpa, data):
        self._copy(gpa, data=data)

    def read_phys(self, gpa, size):
        return self._copy(gpa, size=size)

    def dma_read(self, gpa, size):
        try:
            return self._copy(gpa, size=size)
        except GuestDmaError as e:
            raise self.monitor.dma_error(str(e)) from None

    def dma_write(self, gpa, data):
        try:
            self._copy(gpa, data=data)
        except GuestDmaError as e:
            raise self.monitor.dma_error(str(e)) from None

    def load_kernel(self, path, dtb=None, unpack=True):
        """Load a guest ELF for VCPU 0, by the same boot convention as the bare machine."""
        return load_kernel(self, self.vcpus[0].v, path, dtb, unpack)

    def boot_area_top(self):
        return min(self.mem_size, 256 << 20)

    @property
    def alive(self):
        return self.exit_status is None and self.error is None

    # ---- VCPU start and stop (the IPI/CPU-start device, as on the bare machine) ----------
    @property
    def running(self):
        """Per VCPU: started and not stopped (what the IPI device's RUNNING reports)."""
        return [v.state != STOPPED for v in self.vcpus]

    def start_cpu(self, n, pc, arg):
        vcpu = self.vcpus[n]
        if vcpu.state != STOPPED:
            return
        v = vcpu.v
        v.reset()
        v.cp0[cs.C0_STATUS] = 0                  # kernel mode, ERL and BEV clear
        v.s[cs.S_RAM_SIZE] = self.mem_size
        v.s[cs.S_RAM_LO_END] = self.mem_size
        update_context(v.cp0, v.s)
        v.set_pc(pc)
        v.r[4] = arg
        v.s[cs.S_CYCLE] = self.monitor.machine.now()
        vcpu.forget_hardware_mappings()
        vcpu.state = RUNNABLE

    def stop_cpu(self, n):
        self.vcpus[n].state = STOPPED
