"""The flattened device tree (DTB) by which the machine describes itself to its guest.

The loader passes the blob by the UHI convention (a0 = -2, a1 = kseg0 address of the blob).
This module writes DTS source for a :class:`MachineDesc` and compiles it with Debian's ``dtc``
(package ``device-tree-compiler``); nothing here parses or encodes FDT itself.

What Debian's generic MIPS kernel (``linux-image-6.1.0-*-mips32r2el``, CONFIG_MIPS_GENERIC)
needs from the tree, and why (paths and lines are Linux 6.1.176, Debian's linux-source-6.1):

* Finding the tree: ``get_fdt()`` (arch/mips/include/asm/bootinfo.h:130) takes ``fw_arg1`` as
  a *pointer* when ``fw_arg0 == -2``, so a1 must be a kseg0 (0x8xxxxxxx) address.  The Debian
  kernel has no appended DTB (CONFIG_MIPS_NO_APPENDED_DTB) and no built-in board DTB, so
  without a1 it has nothing (prom_init BUGs, arch/mips/generic/init.c:30).  The image is the
  self-decompressing ``vmlinuz`` (an ELF): its head passes a0-a3 through to the real kernel
  (arch/mips/boot/compressed/head.S:20-42).
* Root node: any ``compatible`` will do.  plat_get_fdt() (generic/init.c:49) only looks for
  a board with a matching ``MIPS_MACHINE`` entry, and the Debian config builds none of them
  (no SEAD3/Ocelot/Ranchu), so ``mach`` stays NULL and everything comes from the tree.
  ``model`` (else the first compatible) only names the machine in /proc/cpuinfo
  (arch/mips/kernel/prom.c:45).
* Timer frequency: generic plat_time_init() (generic/init.c:151-190) does *not* read a
  ``mips-hpt-frequency`` or a cpu ``clock-frequency``.  It takes ``of_clk_get()`` of the
  first cpu node (of_get_cpu_node(0): the cpu node whose ``reg`` is 0) and halves the rate:
  "The counter runs at half the CPU clock rate".  So cpu nodes carry ``clocks`` pointing at a
  ``fixed-clock`` node (registered by of_clk_init(NULL) just before; CONFIG_COMMON_CLK=y)
  whose frequency is the CPU clock; Count then runs at half of it, as our CPU's does.
  The Count/Compare interrupt line is not in the tree: traps.c:2289 reads IntCtl.IPTI.
* Interrupts: arch_init_irq() (generic/init.c:193) lets irqchip_init() probe the node with
  ``mti,cpu-interrupt-controller`` (drivers/irqchip/irq-mips-cpu.c:288): a legacy domain of
  8 lines whose hardware numbers are the Cause.IP bit numbers (irq-mips-cpu.c:137-147,
  ``irq_domain_xlate_onecell``), so ``interrupts = <2>`` means IP2.  #interrupt-cells = 1,
  #address-cells = 0 (binding mti,cpu-interrupt-controller.yaml).  All devices hang off
  it through the root's ``interrupt-parent``.  The virtio slots share IP3 (virtio_mmio and
  the 8250 driver both request shared IRQs).
* Memory and NUMA: ``device_type = "memory"`` nodes (one per node's slice, split around the
  device window); RAM above 0x20000000 becomes highmem (CONFIG_HIGHMEM=y).  ``numa-node-id``
  is the standard binding (bindings/numa.txt); the 32-bit Debian kernel has no NUMA and
  ignores it, but Disco-aware guests and our own tools may read it.
* Command line and initrd: CONFIG_MIPS_CMDLINE_FROM_DTB=y, so ``/chosen/bootargs`` is the
  command line (arch/mips/kernel/setup.c:591-604) and the kernel has no built-in one
  (CONFIG_CMDLINE_BOOL unset).  ``linux,initrd-start``/``-end`` are physical addresses read
  at any cell width (drivers/of/fdt.c:917-925); the start must be page aligned and the
  initrd must lie in lowmem (setup.c:159-176).  Suggested bootargs:
  ``console=ttyS0 earlycon nokaslr``; ``earlycon`` with no argument follows
  ``stdout-path`` (8250_early.c:178 declares an ``ns16550a`` earlycon).  ``nokaslr``
  because CONFIG_RANDOMIZE_BASE=y moves the kernel by up to 16 MiB (relocate.c:262-282)
  and only the tree, not the initrd, is moved out of its way (relocate.c:373).
* UART: 8250_of.c needs ``clock-frequency`` (or a clock; 8250_of.c:46); reg-shift 0,
  reg-io-width 1 give byte registers.  1843200 Hz is the classic 16550 crystal: divisor 1
  is 115200 baud.  Type is fixed by the compatible (UPF_FIXED_TYPE, 8250_of.c:74), so the
  probe does no autoconfig; the loopback test is skipped only on autoconfig.
* Power: the Debian config has CONFIG_POWER_RESET_SYSCON=y (syscon-reboot) but *not*
  CONFIG_POWER_RESET_SYSCON_POWEROFF, so that kernel's ``poweroff`` finds no handler and
  hangs in machine_power_off(); our initramfs therefore writes the exit status to the
  syscon directly (busybox devmem).  The nodes are still here for kernels that have the
  driver.  Both drivers do ``regmap_update_bits(map, offset, mask, value)``
  (syscon-poweroff.c:27, syscon-reboot.c:34), which *reads first and skips the write if
  nothing changes*; so the syscon's registers must read back something other than the
  value written (e.g. 0xFFFFFFFF) for a poweroff with value 0 to reach the device.
  syscon-poweroff only accepts a ``regmap`` phandle (syscon-poweroff.c:38), hence the
  root-level nodes with ``regmap = <&syscon>`` rather than children of a simple-mfd.
* RTC: rtc-goldfish.c needs ``reg`` and an ``interrupts`` entry (platform_get_irq, :170);
  CONFIG_RTC_DRV_GOLDFISH=y.
* virtio-mmio: ``virtio,mmio`` slots of 0x200 bytes with an interrupt; CONFIG_VIRTIO_MMIO=m
  (a module).  A slot whose DeviceID reads 0 is skipped by the driver, so describing empty
  slots is harmless; by default only present ones are listed.
* SMP: this tree lists every CPU, but the generic kernel starts secondaries only through
  MIPS CPS (needs a Coherence Manager and a GIC, smp-cps.c:632-647) or MT VSMP (needs the
  MT ASE, asm/smp-ops.h:99); otherwise it registers up_smp_ops (generic/init.c:116-121)
  and runs on one CPU.  Our ``discovm,ipi`` device is described for our own guests.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from . import physmap

# The UART's input clock.  1.8432 MHz is the standard 16550 crystal (divisor 1 = 115200 baud).
UART_CLOCK_HZ = 1843200
DEFAULT_CLOCK_HZ = 200_000_000
# Register window sizes, as the machine registers its devices.
SMALL_DEVICE_SIZE = 0x100
SUGGESTED_LINUX_BOOTARGS = "console=ttyS0 earlycon nokaslr"


class DeviceTreeError(RuntimeError):
    """The device tree could not be made (dtc missing or rejecting the source)."""


@dataclass
class MachineDesc:
    """What the guest is told about the machine.  Addresses are physical."""
    memory: list = field(default_factory=lambda: [(0, 64 << 20)])   # [(base, size)]
    memory_nodes: list | None = None    # NUMA node of each memory range (None: no property)
    cpus: int = 1
    cpu_nodes: list | None = None       # NUMA node of each CPU (None: no property)
    clock_hz: int = DEFAULT_CLOCK_HZ    # CPU clock; Count runs at half of it
    uart: bool = True
    syscon: bool = True
    rtc: bool = False
    ipi: bool = True
    virtio: list = field(default_factory=list)   # present virtio-mmio slot numbers 0..15
    bootargs: str = ""
    initrd: tuple | None = None         # (start, end) physical, start page aligned
    stdout_path: str = "serial0:115200n8"
    model: str | None = None

    def check(self):
        if self.cpus < 1:
            raise ValueError("a machine has at least one CPU")
        if self.cpu_nodes is not None and len(self.cpu_nodes) != self.cpus:
            raise ValueError("cpu_nodes needs one entry per CPU")
        if self.memory_nodes is not None and len(self.memory_nodes) != len(self.memory):
            raise ValueError("memory_nodes needs one entry per memory range")
        for n in self.virtio:
            if not 0 <= n < physmap.VIRTIO_SLOTS:
                raise ValueError(f"virtio slot {n} is not in 0..{physmap.VIRTIO_SLOTS - 1}")
        if self.initrd is not None:
            start, end = self.initrd
            if start % 4096 or end < start:
                raise ValueError("initrd must start on a page boundary and end after it")


def _str(s):
    """A DTS string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dts(desc: MachineDesc) -> str:
    """DTS source text for ``desc``."""
    desc.check()
    nodes = len(set(desc.cpu_nodes or [0]))
    model = desc.model or (f"discovm MIPS32r2 multiprocessor, {desc.cpus} CPU"
                           f"{'s' if desc.cpus > 1 else ''}, {nodes} NUMA node"
                           f"{'s' if nodes > 1 else ''}")
    out = ["/dts-v1/;", "", "/ {",
           "\t#address-cells = <1>;", "\t#size-cells = <1>;",
           '\tcompatible = "discovm,machine";',
           f"\tmodel = {_str(model)};",
           "\tinterrupt-parent = <&cpuintc>;", ""]

    out += ["\taliases {"]
    if desc.uart:
        out += ["\t\tserial0 = &uart0;"]
    out += ["\t};", "", "\tchosen {", f"\t\tbootargs = {_str(desc.bootargs)};"]
    if desc.uart and desc.stdout_path:
        out += [f"\t\tstdout-path = {_str(desc.stdout_path)};"]
    if desc.initrd is not None:
        out += [f"\t\tlinux,initrd-start = <0x{desc.initrd[0]:x}>;",
                f"\t\tlinux,initrd-end = <0x{desc.initrd[1]:x}>;"]
    out += ["\t};", ""]

    # Linux's generic plat_time_init() takes the first cpu node's clock and halves it.
    out += ["\tcpu_clk: cpu-clock {", '\t\tcompatible = "fixed-clock";',
            "\t\t#clock-cells = <0>;", f"\t\tclock-frequency = <{desc.clock_hz}>;",
            '\t\tclock-output-names = "cpu";', "\t};", ""]

    out += ["\tcpus {", "\t\t#address-cells = <1>;", "\t\t#size-cells = <0>;"]
    for i in range(desc.cpus):
        out += [f"\t\tcpu@{i} {{", '\t\t\tdevice_type = "cpu";', f"\t\t\treg = <{i}>;",
                "\t\t\tclocks = <&cpu_clk>;"]
        if desc.cpu_nodes is not None:
            out += [f"\t\t\tnuma-node-id = <{desc.cpu_nodes[i]}>;"]
        out += ["\t\t};"]
    out += ["\t};", ""]

    for k, (base, size) in enumerate(desc.memory):
        out += [f"\tmemory@{base:x} {{", '\t\tdevice_type = "memory";',
                f"\t\treg = <0x{base:x} 0x{size:x}>;"]
        if desc.memory_nodes is not None:
            out += [f"\t\tnuma-node-id = <{desc.memory_nodes[k]}>;"]
        out += ["\t};", ""]

    out += ["\tcpuintc: interrupt-controller {",
            '\t\tcompatible = "mti,cpu-interrupt-controller";',
            "\t\t#address-cells = <0>;", "\t\t#interrupt-cells = <1>;",
            "\t\tinterrupt-controller;", "\t};", ""]

    def device(label, name, base, size, compatible, irq=None, extra=()):
        head = f"{label}: " if label else ""
        lines = [f"\t{head}{name}@{base:x} {{", f"\t\tcompatible = {compatible};",
                 f"\t\treg = <0x{base:x} 0x{size:x}>;"]
        if irq is not None:
            lines.append(f"\t\tinterrupts = <{irq}>;")
        return lines + [f"\t\t{e};" for e in extra] + ["\t};", ""]

    if desc.uart:
        out += device("uart0", "serial", physmap.UART_BASE, SMALL_DEVICE_SIZE, '"ns16550a"',
                      physmap.IRQ_UART, ["reg-shift = <0>", "reg-io-width = <1>",
                                         f"clock-frequency = <{UART_CLOCK_HZ}>"])
    if desc.syscon:
        out += device("syscon", "syscon", physmap.SYSCON_BASE, SMALL_DEVICE_SIZE,
                      '"discovm,syscon", "syscon"')
        # value 0: a Linux poweroff exits with status 0.  mask 0xFF: the exit status byte.
        out += ["\tpoweroff {", '\t\tcompatible = "syscon-poweroff";',
                "\t\tregmap = <&syscon>;", "\t\toffset = <0x0>;", "\t\tvalue = <0x0>;",
                "\t\tmask = <0xff>;", "\t};", "",
                "\treboot {", '\t\tcompatible = "syscon-reboot";',
                "\t\tregmap = <&syscon>;", "\t\toffset = <0x4>;", "\t\tvalue = <0x1>;",
                "\t};", ""]
    if desc.rtc:
        out += device(None, "rtc", physmap.RTC_BASE, SMALL_DEVICE_SIZE,
                      '"google,goldfish-rtc"', physmap.IRQ_RTC)
    if desc.ipi:
        out += device(None, "ipi", physmap.IPI_BASE, SMALL_DEVICE_SIZE, '"discovm,ipi"',
                      physmap.IRQ_IPI)
    for n in sorted(desc.virtio):
        out += device(None, "virtio", physmap.VIRTIO_BASE + n * physmap.VIRTIO_STRIDE,
                      physmap.VIRTIO_STRIDE, '"virtio,mmio"', physmap.IRQ_VIRTIO)
    out += ["};", ""]
    return "\n".join(out)


def _dtc():
    path = shutil.which("dtc")
    if path is None:
        raise DeviceTreeError("the device-tree compiler 'dtc' is not installed "
                              "(Debian package device-tree-compiler; run scripts/install-deps.sh)")
    return path


def _run_dtc(args, data):
    r = subprocess.run([_dtc(), "-q", *args], input=data, capture_output=True)
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        raise DeviceTreeError("dtc failed: " + (msg[0] if msg else f"exit {r.returncode}"))
    return r.stdout


def compile_dts(text: str) -> bytes:
    """DTS source -> DTB bytes, by ``dtc -I dts -O dtb``."""
    return _run_dtc(["-I", "dts", "-O", "dtb"], text.encode())


def decompile(blob: bytes) -> str:
    """DTB bytes -> DTS text, by ``dtc -I dtb -O dts`` (for tests and debugging)."""
    return _run_dtc(["-I", "dtb", "-O", "dts"], blob).decode()


def dtb(desc: MachineDesc) -> bytes:
    """The device tree blob for ``desc``."""
    return compile_dts(dts(desc))


def _node_ranges(mem_size, nodes):
    """Physical ranges with their NUMA node: RAM is split evenly into ``nodes`` slices (of
    the RAM's own offsets, as the cache model homes pages), then each slice is mapped to
    physical addresses, split where RAM jumps over the device window."""
    per = -(-mem_size // nodes)
    ranges, nodes_of = [], []
    for base, size in physmap.ram_ranges(mem_size):
        off = 0 if base == 0 else physmap.DEVICE_WINDOW    # RAM offset of this range
        pos = 0
        while pos < size:
            node = (off + pos) // per
            take = min(size - pos, (node + 1) * per - (off + pos))
            ranges.append((base + pos, take))
            nodes_of.append(node)
            pos += take
    return ranges, nodes_of


def machine_desc(machine, **overrides) -> MachineDesc:
    """The description of a :class:`discovm.hw.machine.Machine` (its RAM, CPUs, NUMA nodes
    and the devices registered on it); keyword arguments override fields."""
    ncpus = len(machine.cpus)
    nodes = getattr(machine, "nodes", 1)
    memory, memory_nodes = _node_ranges(machine.mem_size, nodes)
    bases = {base for base, _size, _dev in getattr(machine, "devices", [])}
    virtio = [n for n in range(physmap.VIRTIO_SLOTS)
              if physmap.VIRTIO_BASE + n * physmap.VIRTIO_STRIDE in bases]
    desc = MachineDesc(memory=memory, cpus=ncpus,
                       memory_nodes=memory_nodes if nodes > 1 else None,
                       cpu_nodes=[i * nodes // ncpus for i in range(ncpus)] if nodes > 1 else None,
                       clock_hz=getattr(machine, "clock_hz", DEFAULT_CLOCK_HZ),
                       uart=physmap.UART_BASE in bases or not bases,
                       syscon=physmap.SYSCON_BASE in bases or not bases,
                       rtc=physmap.RTC_BASE in bases, ipi=physmap.IPI_BASE in bases,
                       virtio=virtio)
    for k, v in overrides.items():
        if not hasattr(desc, k):
            raise TypeError(f"MachineDesc has no field {k!r}")
        setattr(desc, k, v)
    return desc


_warned = False


def machine_dtb(machine, required=False, **overrides):
    """The blob for ``machine``.  Without dtc: raise if ``required`` (a Linux guest cannot
    boot without a tree), else warn once and return None (bare-metal programs that never
    read a1 still run)."""
    global _warned
    try:
        return dtb(machine_desc(machine, **overrides))
    except DeviceTreeError as e:
        if required or shutil.which("dtc") is not None:
            raise
        if not _warned and not os.environ.get("DISCOVM_QUIET"):
            print(f"discovm: no device tree passed: {e}", file=sys.stderr)
            _warned = True
        return None
