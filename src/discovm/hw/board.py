"""The board: the devices beyond the CPU complex, put where DESIGN.md's address map says.

* the goldfish RTC at physmap.RTC_BASE (always there);
* sixteen virtio-mmio slots at physmap.VIRTIO_BASE + 0x200*n: first the disks, in the
  order given, then the network cards, then empty slots (DeviceID 0) up to slot 15, so
  every slot the device tree lists answers a probe.

Network cards name the Ethernet segment they plug into; cards naming the same segment
share it (two cards on "lan" in one machine can talk to each other).  MAC addresses are
fixed, 52:54:00:00:00:01 upward in attachment order (52:54:00 is QEMU's prefix, locally
administered), so runs are deterministic.
"""

from . import physmap
from .ethernet import EthernetSegment
from .rtc import DEFAULT_CLOCK_HZ, DEFAULT_EPOCH_NS, GoldfishRtc
from .virtio_blk import DEFAULT_LATENCY, VirtioBlk
from .virtio_mmio import SLOT_SIZE, VirtioMmio
from .virtio_net import VirtioNet


class BoardError(Exception):
    """A board that cannot be built (too many devices, a bad disk image)."""


class Board:
    def __init__(self, machine, rtc, slots, segments):
        self.machine = machine
        self.rtc = rtc
        self.slots = slots              # VirtioMmio per slot, empty ones included
        self.segments = segments        # name -> EthernetSegment

    def slot_base(self, n):
        return physmap.VIRTIO_BASE + physmap.VIRTIO_STRIDE * n


def attach_board(machine, disks=(), nets=(), clock_hz=DEFAULT_CLOCK_HZ,
                 rtc_start_ns=DEFAULT_EPOCH_NS, disk_latency=DEFAULT_LATENCY):
    """Attach the RTC and the virtio slots to ``machine``; returns the Board.

    ``disks``: image paths, or ``(path, read_only[, persistent])`` tuples.  ``nets``: segment names, one
    per network card.  Raises BoardError with a one-line message for a disk image that
    cannot be opened or more devices than slots.
    """
    from .virtio_blk import DiskImageError
    if len(disks) + len(nets) > physmap.VIRTIO_SLOTS:
        raise BoardError(f"{len(disks) + len(nets)} virtio devices, but the machine has "
                         f"{physmap.VIRTIO_SLOTS} slots")
    rtc = GoldfishRtc(machine, start_ns=rtc_start_ns, clock_hz=clock_hz)
    machine.add_device(physmap.RTC_BASE, 0x100, rtc)

    backends = []
    for disk in disks:
        if isinstance(disk, (str, bytes)) or hasattr(disk, "__fspath__"):
            disk = (disk,)
        path, read_only, persistent = (tuple(disk) + (False, True)[len(disk) - 1:])[:3]
        try:
            backends.append(VirtioBlk(path, read_only=read_only, latency=disk_latency,
                                      persistent=persistent))
        except DiskImageError as e:
            for b in backends:
                b.close()
            raise BoardError(str(e)) from None
    segments = {}
    for k, name in enumerate(nets):
        if name not in segments:
            segments[name] = EthernetSegment(machine, name)
        backends.append(VirtioNet(bytes((0x52, 0x54, 0, 0, 0, k + 1)), segments[name]))

    slots = []
    for n in range(physmap.VIRTIO_SLOTS):
        backend = backends[n] if n < len(backends) else None
        dev = VirtioMmio(machine, backend, name=f"virtio{n}")
        machine.add_device(physmap.VIRTIO_BASE + physmap.VIRTIO_STRIDE * n, SLOT_SIZE, dev)
        slots.append(dev)
    board = Board(machine, rtc, slots, segments)
    machine.board = board
    return board
