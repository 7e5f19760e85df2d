"""The machine's physical address map (fixed by DESIGN.md; guests and tests rely on it).

RAM starts at 0 and is split evenly into NUMA nodes.  The device window 0x1F000000-0x1FFFFFFF
sits inside the first 512 MiB (the part kseg0/kseg1 reach), so RAM beyond 0x1F000000 is
placed at 0x20000000 upward instead; the device tree describes both ranges.
"""

UART_BASE = 0x1F000000
SYSCON_BASE = 0x1F001000
RTC_BASE = 0x1F002000
IPI_BASE = 0x1F003000
VIRTIO_BASE = 0x1F010000
VIRTIO_STRIDE = 0x200
VIRTIO_SLOTS = 16
ROM_BASE = 0x1FC00000           # reset vector 0xBFC00000 in kseg1
ROM_SIZE = 0x10000              # bytes of boot ROM backed by memory

DEVICE_WINDOW = 0x1F000000      # RAM below this address ...
HIGH_RAM_BASE = 0x20000000      # ... and the rest of it from here

# CPU interrupt lines (Cause.IP numbers) of the devices
IRQ_UART = 2
IRQ_VIRTIO = 3
IRQ_IPI = 4
IRQ_RTC = 5
IRQ_TIMER = 7


def ram_ranges(ram_size):
    """The physical ranges [(base, size)] that RAM of ``ram_size`` bytes occupies."""
    low = min(ram_size, DEVICE_WINDOW)
    ranges = [(0, low)]
    if ram_size > low:
        ranges.append((HIGH_RAM_BASE, ram_size - low))
    return ranges


def kseg_to_phys(vaddr):
    """Physical address of a kseg0/kseg1 address (what QEMU's -kernel loader does)."""
    return vaddr & 0x1FFFFFFF
