"""The boot convention (DESIGN.md, Boot), shared by the bare machine and the monitor's VMs.

Like QEMU's ``-kernel``: the ELF's loadable segments are copied into (guest-)physical
memory, the device tree goes at the top of the RAM kseg0 reaches, and the boot CPU starts
at the entry point in kernel mode with a0 = -2 and a1 = the tree's kseg0 address (UHI).
"""

from . import physmap
from .elf_loader import LoadError, load_elf, unpack_zboot


def load_kernel(target, cpu, path, dtb=None, unpack=True):
    """Load ``path`` into ``target`` (anything with ``write_phys`` and ``boot_area_top``)
    and set ``cpu`` (a CpuState) up to start it.  A compressed Linux kernel (zboot
    vmlinuz) is decompressed here, as a bootloader would, unless ``unpack`` is False."""
    zboot = unpack_zboot(path) if unpack else None
    if zboot:
        image, load, entry = zboot
        target.write_phys(physmap.kseg_to_phys(load), image)
        top = physmap.kseg_to_phys(load) + len(image)
    else:
        entry, top = load_elf(path, target.write_phys)
    cpu.set_pc(entry)
    cpu.r[4] = 0xFFFFFFFE                        # a0 = -2: UHI boot
    if dtb is not None:
        # At the top of the RAM kseg0 reaches, clear of a kernel's BSS (which a
        # compressed image does not show) and of where it will allocate early.
        addr = (target.boot_area_top() - len(dtb)) & ~0xFFFF
        if addr < top:
            raise LoadError("no room for the device tree above the kernel")
        target.write_phys(addr, dtb)
        cpu.r[5] = 0x80000000 | addr             # a1 = kseg0 address of the tree
    return entry
