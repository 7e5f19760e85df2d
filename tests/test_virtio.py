"""virtio-mmio devices (blk, net), the Ethernet segment and the goldfish RTC, driven from
Python exactly as a guest driver drives them: 32-bit register accesses at the slot's
physical address, and descriptor tables / available rings / used rings laid out in the
machine's RAM (virtio 1.1, sections 2.6, 4.2, 5.1, 5.2).  The last test runs a bare-metal
C driver (guests/virtio/) on the simulated CPU.
"""

import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys

import pytest

from discovm.hw import cpu_state as cs
from discovm.hw import physmap
from discovm.hw.board import BoardError, attach_board
from discovm.hw.machine import Machine
from discovm.hw import virtio_mmio as vm
from discovm.hw import rtc as rtcmod

ROOT = pathlib.Path(__file__).resolve().parent.parent

# ---- a tiny driver ---------------------------------------------------------------------

DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4


class Bus:
    """The CPU's view of the machine: physical register accesses and RAM, plus a clock
    that the test moves forward (devices run their events as simulated time passes)."""

    def __init__(self, machine):
        self.m = machine
        self.next_free = 0x100000           # a bump allocator for driver memory

    def _dev(self, pa):
        for base, size, dev in self.m.devices:
            if base <= pa < base + size:
                return dev, pa - base
        raise AssertionError(f"no device at 0x{pa:08x}")

    def read32(self, pa):
        dev, off = self._dev(pa)
        value = dev.read(off, 4) & 0xFFFFFFFF
        self.m._update_irqs()
        return value

    def read8(self, pa):
        dev, off = self._dev(pa)
        return dev.read(off, 1) & 0xFF

    def write32(self, pa, value):
        dev, off = self._dev(pa)
        dev.write(off, value, 4)
        self.m._update_irqs()

    def alloc(self, size, align=16):
        addr = (self.next_free + align - 1) & ~(align - 1)
        self.next_free = addr + size
        self.m.write_phys(addr, bytes(size))
        return addr

    def advance(self, cycles):
        """Let ``cycles`` of simulated time pass, running device events when due."""
        target = self.m.time + cycles
        while self.m.next_event() is not None and self.m.next_event() <= target:
            self.m.time = self.m.next_event()
            self.m._run_events()
        self.m.time = target
        self.m._update_irqs()

    def irq_lines(self):
        """The interrupt lines the devices drive into CPU 0 (bit n = IP n)."""
        return int(self.m.cpus[0].s[cs.S_IRQ_LINES])


class Queue:
    """The driver's side of one split virtqueue."""

    def __init__(self, bus, num):
        self.bus, self.num = bus, num
        self.desc = bus.alloc(16 * num, 16)
        self.avail = bus.alloc(6 + 2 * num, 2)
        self.used = bus.alloc(6 + 8 * num, 4)
        self.free = list(range(num))
        self.avail_idx = 0
        self.last_used = 0

    def set_desc(self, i, addr, length, flags, nxt=0):
        self.bus.m.write_phys(self.desc + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))

    def add(self, bufs):
        """Queue one chain of (addr, length, device_writable) buffers; returns its head."""
        idx = [self.free.pop(0) for _ in bufs]
        for k, (addr, length, writable) in enumerate(bufs):
            last = k == len(bufs) - 1
            self.set_desc(idx[k], addr, length,
                          (DESC_F_WRITE if writable else 0) | (0 if last else DESC_F_NEXT),
                          0 if last else idx[k + 1])
        self.publish(idx[0])
        return idx[0]

    def publish(self, head):
        m = self.bus.m
        m.write_phys(self.avail + 4 + 2 * (self.avail_idx % self.num), struct.pack("<H", head))
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        m.write_phys(self.avail + 2, struct.pack("<H", self.avail_idx))

    def used_idx(self):
        return struct.unpack("<H", self.bus.m.read_phys(self.used + 2, 2))[0]

    def take_used(self):
        """[(head, written)] the device has returned since the last call."""
        out = []
        while self.last_used != self.used_idx():
            slot = self.last_used % self.num
            out.append(struct.unpack("<II", self.bus.m.read_phys(self.used + 4 + 8 * slot, 8)))
            self.last_used = (self.last_used + 1) & 0xFFFF
        return out


class Driver:
    """Brings a virtio-mmio device up the way 3.1.1 and 4.2.3 say, then moves requests."""

    def __init__(self, bus, slot):
        self.bus = bus
        self.base = physmap.VIRTIO_BASE + physmap.VIRTIO_STRIDE * slot
        self.queues = []

    def reg(self, off):
        return self.bus.read32(self.base + off)

    def set(self, off, value):
        self.bus.write32(self.base + off, value)

    def features(self):
        self.set(vm.DEVICE_FEATURES_SEL, 0)
        low = self.reg(vm.DEVICE_FEATURES)
        self.set(vm.DEVICE_FEATURES_SEL, 1)
        return low | self.reg(vm.DEVICE_FEATURES) << 32

    def init(self, nqueues, accept=None, qsize=8):
        assert self.reg(vm.MAGIC_VALUE) == 0x74726976
        assert self.reg(vm.VERSION_REG) == 2
        self.set(vm.STATUS, 0)
        self.set(vm.STATUS, vm.ACKNOWLEDGE)
        self.set(vm.STATUS, vm.ACKNOWLEDGE | vm.DRIVER)
        offered = self.features()
        if accept is None:
            accept = offered
        elif callable(accept):
            accept = accept(offered)
        for sel in (0, 1):
            self.set(vm.DRIVER_FEATURES_SEL, sel)
            self.set(vm.DRIVER_FEATURES, (accept >> (32 * sel)) & 0xFFFFFFFF)
        self.set(vm.STATUS, vm.ACKNOWLEDGE | vm.DRIVER | vm.FEATURES_OK)
        if not self.reg(vm.STATUS) & vm.FEATURES_OK:
            return False
        self.queues = []
        for i in range(nqueues):
            self.set(vm.QUEUE_SEL, i)
            assert self.reg(vm.QUEUE_READY) == 0
            assert self.reg(vm.QUEUE_NUM_MAX) >= qsize
            q = Queue(self.bus, qsize)
            self.set(vm.QUEUE_NUM, qsize)
            for low, addr in ((vm.QUEUE_DESC_LOW, q.desc), (vm.QUEUE_DRIVER_LOW, q.avail),
                              (vm.QUEUE_DEVICE_LOW, q.used)):
                self.set(low, addr)
                self.set(low + 4, 0)
            self.set(vm.QUEUE_READY, 1)
            self.queues.append(q)
        self.set(vm.STATUS, vm.ACKNOWLEDGE | vm.DRIVER | vm.FEATURES_OK | vm.DRIVER_OK)
        return True

    def notify(self, q):
        self.set(vm.QUEUE_NOTIFY, q)

    def ack_interrupt(self):
        status = self.reg(vm.INTERRUPT_STATUS)
        self.set(vm.INTERRUPT_ACK, status)
        return status

    def config8(self, off):
        return self.bus.read8(self.base + vm.CONFIG + off)

    def config32(self, off):
        return self.reg(vm.CONFIG + off)


# ---- fixtures ---------------------------------------------------------------------------

@pytest.fixture
def image(tmp_path):
    p = tmp_path / "disk.img"
    p.write_bytes(bytes(range(256)) * 2 * 64)          # 64 sectors: sector k = 0,1,..255,0..
    return p


def make(disks=(), nets=(), **kw):
    m = Machine(mem_size=8 << 20)
    board = attach_board(m, disks=disks, nets=nets, **kw)
    return m, Bus(m), board


BLK_IN, BLK_OUT, BLK_FLUSH, BLK_GET_ID = 0, 1, 4, 8
IRQ_VIRTIO_BIT = 1 << physmap.IRQ_VIRTIO


class Blk:
    """virtio-blk requests: header | data | status byte (5.2.6)."""

    def __init__(self, bus, slot=0, **kw):
        self.bus = bus
        self.d = Driver(bus, slot)
        assert self.d.init(1, **kw)
        self.q = self.d.queues[0]
        self.hdr = bus.alloc(16)
        self.status = bus.alloc(1)
        self.buf = bus.alloc(4096)

    def request(self, kind, sector=0, data=None, read_len=0, data_addr=None, wait=True):
        m = self.bus.m
        m.write_phys(self.hdr, struct.pack("<IIQ", kind, 0, sector))
        m.write_phys(self.status, b"\xee")
        bufs = [(self.hdr, 16, False)]
        addr = self.buf if data_addr is None else data_addr
        if data is not None:
            if data_addr is None:
                m.write_phys(addr, data)
            bufs.append((addr, len(data), False))
        elif read_len:
            bufs.append((addr, read_len, True))
        bufs.append((self.status, 1, True))
        head = self.q.add(bufs)
        self.d.notify(0)
        if not wait:
            return head
        self.bus.advance(1_000_000)
        used = self.q.take_used()
        assert [h for h, _ in used] == [head]
        self.q.free.extend(range(self.q.num))         # one request at a time: all free again
        self.q.free = sorted(set(self.q.free))
        return m.read_phys(self.status, 1)[0], used[0][1]


# ---- the transport ------------------------------------------------------------------------

def test_empty_slots_read_device_id_zero():
    m, bus, board = make()
    for n in range(physmap.VIRTIO_SLOTS):
        base = physmap.VIRTIO_BASE + physmap.VIRTIO_STRIDE * n
        assert bus.read32(base + vm.MAGIC_VALUE) == 0x74726976
        assert bus.read32(base + vm.VERSION_REG) == 2
        assert bus.read32(base + vm.DEVICE_ID) == 0
    assert "virtio0" not in m.stats()["devices"]


def test_disks_then_nets_fill_slots_in_order(image):
    m, bus, board = make(disks=[image], nets=["lan"])
    ids = [bus.read32(physmap.VIRTIO_BASE + 0x200 * n + vm.DEVICE_ID) for n in range(3)]
    assert ids == [2, 1, 0]


def test_features_must_include_version_1(image):
    m, bus, board = make(disks=[image])
    d = Driver(bus, 0)
    offered = d.features()
    assert offered & vm.VIRTIO_F_VERSION_1
    # A legacy driver (no VERSION_1) is refused: FEATURES_OK does not stick (3.1.1).
    assert not d.init(1, accept=offered & ~vm.VIRTIO_F_VERSION_1)
    # So is a driver accepting a feature that was not offered.
    assert not Driver(bus, 0).init(1, accept=offered | 1 << 40)
    assert Driver(bus, 0).init(1)


def test_queue_registers_read_back(image):
    m, bus, board = make(disks=[image])
    d = Driver(bus, 0)
    d.init(1, qsize=16)
    d.set(vm.QUEUE_SEL, 0)
    assert d.reg(vm.QUEUE_NUM) == 16 and d.reg(vm.QUEUE_READY) == 1
    assert d.reg(vm.QUEUE_DESC_LOW) == d.queues[0].desc
    d.set(vm.QUEUE_SEL, 1)                                   # no such queue
    assert d.reg(vm.QUEUE_NUM_MAX) == 0
    d.set(vm.STATUS, 0)                                      # reset
    assert d.reg(vm.STATUS) == 0
    d.set(vm.QUEUE_SEL, 0)
    assert d.reg(vm.QUEUE_READY) == 0 and d.reg(vm.QUEUE_DESC_LOW) == 0


# ---- virtio-blk ---------------------------------------------------------------------------

def test_blk_config_capacity_and_block_size(image):
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    assert blk.d.reg(vm.DEVICE_ID) == 2
    assert blk.d.config32(0) == 64 and blk.d.config32(4) == 0     # capacity, le64
    assert blk.d.config32(20) == 512                                # blk_size
    assert blk.d.config8(0) == 64                                   # byte access


def test_blk_write_read_flush_and_host_file(image):
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    data = bytes((7 * i + 3) & 0xFF for i in range(1024))
    assert blk.request(BLK_OUT, sector=5, data=data) == (0, 1)       # OK; 1 byte written
    # the completion raised IP3 through InterruptStatus bit 0
    assert bus.irq_lines() & IRQ_VIRTIO_BIT
    assert blk.d.ack_interrupt() == vm.INT_USED_BUFFER
    assert not bus.irq_lines() & IRQ_VIRTIO_BIT

    m.write_phys(blk.buf, bytes(1024))
    assert blk.request(BLK_IN, sector=5, read_len=1024) == (0, 1025)
    assert m.read_phys(blk.buf, 1024) == data
    assert blk.request(BLK_IN, sector=0, read_len=512)[0] == 0       # untouched sector
    assert m.read_phys(blk.buf, 512) == bytes(range(256)) * 2
    assert blk.request(BLK_FLUSH) == (0, 1)

    status, n = blk.request(BLK_GET_ID, read_len=20)
    assert status == 0 and m.read_phys(blk.buf, 8) == b"disk.img"

    raw = image.read_bytes()                                         # the host's view
    assert raw[5 * 512:7 * 512] == data
    assert raw[:5 * 512] == (bytes(range(256)) * 2) * 5
    assert raw[7 * 512:] == (bytes(range(256)) * 2) * 57
    st = m.stats()["devices"]["virtio0"]
    assert st["type"] == "virtio-blk" and st["errors"] == 0
    assert (st["writes"], st["reads"], st["flushes"]) == (1, 2, 1)
    assert st["bytes_written"] == 1024 and st["bytes_read"] == 1536


def test_blk_completion_takes_the_latency(image):
    m, bus, board = make(disks=[image], disk_latency=5000)
    blk = Blk(bus)
    head = blk.request(BLK_IN, sector=1, read_len=512, wait=False)
    bus.advance(4999)
    assert blk.q.take_used() == [] and not bus.irq_lines() & IRQ_VIRTIO_BIT
    bus.advance(1)
    assert blk.q.take_used() == [(head, 513)]
    assert bus.irq_lines() & IRQ_VIRTIO_BIT


def test_blk_no_interrupt_when_driver_asks(image):
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    m.write_phys(blk.q.avail, struct.pack("<H", 1))        # VIRTQ_AVAIL_F_NO_INTERRUPT
    assert blk.request(BLK_FLUSH) == (0, 1)
    assert blk.d.reg(vm.INTERRUPT_STATUS) == 0


def test_blk_indirect_descriptors(image):
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    table = bus.alloc(48)
    m.write_phys(blk.hdr, struct.pack("<IIQ", BLK_IN, 0, 2))
    m.write_phys(table, struct.pack("<QIHH", blk.hdr, 16, DESC_F_NEXT, 1)
                 + struct.pack("<QIHH", blk.buf, 512, DESC_F_WRITE | DESC_F_NEXT, 2)
                 + struct.pack("<QIHH", blk.status, 1, DESC_F_WRITE, 0))
    blk.q.set_desc(0, table, 48, DESC_F_INDIRECT)
    blk.q.publish(0)
    blk.d.notify(0)
    bus.advance(1_000_000)
    assert blk.q.take_used() == [(0, 513)]
    assert m.read_phys(blk.status, 1) == b"\0"
    assert m.read_phys(blk.buf, 512) == bytes(range(256)) * 2


def test_blk_read_only_image_rejects_writes(image):
    os.chmod(image, 0o444)
    if os.access(image, os.W_OK):
        pytest.skip("running as root: a 0444 file is still writable")
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    assert blk.d.features() & (1 << 5)                        # VIRTIO_BLK_F_RO
    assert blk.request(BLK_OUT, sector=0, data=b"x" * 512)[0] == 1    # IOERR
    assert blk.request(BLK_IN, sector=0, read_len=512)[0] == 0
    assert image.read_bytes()[:512] == bytes(range(256)) * 2


def test_blk_explicit_read_only(image):
    m, bus, board = make(disks=[(image, True)])
    blk = Blk(bus)
    assert blk.request(BLK_OUT, sector=0, data=b"x" * 512)[0] == 1
    assert image.read_bytes()[:512] == bytes(range(256)) * 2


def test_blk_bad_requests_fail_with_error_status(image):
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    # beyond capacity, and a length that is not whole sectors: IOERR (5.2.6.2)
    assert blk.request(BLK_IN, sector=64, read_len=512)[0] == 1
    assert blk.request(BLK_OUT, sector=63, data=b"y" * 1024)[0] == 1
    assert blk.request(BLK_OUT, sector=0, data=b"y" * 100)[0] == 1
    # a data buffer outside RAM (the device window, and beyond RAM's end): IOERR, no crash
    assert blk.request(BLK_OUT, sector=0, data=b"z" * 512, data_addr=0x1F000000)[0] == 1
    assert blk.request(BLK_IN, sector=0, read_len=512, data_addr=0x7FFFFF00)[0] == 1
    # an unknown request type: UNSUPP
    assert blk.request(99)[0] == 2
    assert image.read_bytes() == (bytes(range(256)) * 2) * 64
    st = m.stats()["devices"]["virtio0"]
    assert st["errors"] == 5 and st["io_errors"] == 5 and st["unsupported"] == 1
    # and the device still works
    assert blk.request(BLK_OUT, sector=1, data=b"k" * 512)[0] == 0
    assert blk.d.reg(vm.STATUS) & vm.DEVICE_NEEDS_RESET == 0


@pytest.mark.parametrize("breakage", ["loop", "next_out_of_range", "head_out_of_range",
                                      "desc_table_outside_ram", "avail_jump",
                                      "indirect_not_negotiated", "no_status"])
def test_blk_broken_ring_needs_reset(image, breakage):
    m, bus, board = make(disks=[image])
    kw = {"accept": lambda offered: offered & ~vm.VIRTIO_F_INDIRECT_DESC} if breakage == "indirect_not_negotiated" \
        else {}
    blk = Blk(bus, **kw)
    q = blk.q
    m.write_phys(blk.hdr, struct.pack("<IIQ", BLK_IN, 0, 0))
    if breakage == "loop":                   # 0 -> 1 -> 0 -> ...
        q.set_desc(0, blk.hdr, 16, DESC_F_NEXT, 1)
        q.set_desc(1, blk.buf, 512, DESC_F_WRITE | DESC_F_NEXT, 0)
        q.publish(0)
    elif breakage == "next_out_of_range":
        q.set_desc(0, blk.hdr, 16, DESC_F_NEXT, 1000)
        q.publish(0)
    elif breakage == "head_out_of_range":
        q.publish(q.num + 3)
    elif breakage == "desc_table_outside_ram":
        blk.d.set(vm.QUEUE_SEL, 0)
        blk.d.set(vm.QUEUE_DESC_LOW, 0x1F010000)          # the virtio window itself
        q.publish(0)
    elif breakage == "avail_jump":
        m.write_phys(q.avail + 2, struct.pack("<H", 500))
    elif breakage == "indirect_not_negotiated":
        q.set_desc(0, blk.buf, 32, DESC_F_INDIRECT)
        q.publish(0)
    elif breakage == "no_status":                        # header only: nothing to write
        q.set_desc(0, blk.hdr, 16, 0)
        q.publish(0)
    blk.d.notify(0)
    bus.advance(1_000_000)
    # 2.1.2: DEVICE_NEEDS_RESET, announced with a configuration change interrupt
    assert blk.d.reg(vm.STATUS) & vm.DEVICE_NEEDS_RESET
    assert blk.d.reg(vm.INTERRUPT_STATUS) & vm.INT_CONFIG_CHANGE
    assert bus.irq_lines() & IRQ_VIRTIO_BIT
    assert q.take_used() == []
    st = m.stats()["devices"]["virtio0"]
    assert st["errors"] == 1 and st["last_error"]
    # Further notifications are ignored until the driver resets the device ...
    blk.d.notify(0)
    bus.advance(1_000_000)
    assert m.stats()["devices"]["virtio0"]["errors"] == 1
    # ... after which it works again.
    bus.next_free = 0x200000
    blk2 = Blk(bus)
    assert not blk2.d.reg(vm.STATUS) & vm.DEVICE_NEEDS_RESET
    assert blk2.request(BLK_OUT, sector=9, data=b"\x5a" * 512) == (0, 1)
    assert image.read_bytes()[9 * 512:10 * 512] == b"\x5a" * 512


def test_blk_reset_drops_inflight_request(image):
    m, bus, board = make(disks=[image])
    blk = Blk(bus)
    blk.request(BLK_OUT, sector=3, data=b"q" * 512, wait=False)
    blk.d.set(vm.STATUS, 0)                      # reset before the disk answers
    bus.advance(1_000_000)
    assert blk.q.take_used() == []
    assert image.read_bytes()[3 * 512:4 * 512] == (bytes(range(256)) * 2)


def test_missing_image_is_a_one_line_error(tmp_path):
    with pytest.raises(BoardError) as e:
        make(disks=[tmp_path / "nope.img"])
    assert "nope.img" in str(e.value) and "\n" not in str(e.value)


# ---- virtio-net and the Ethernet segment ---------------------------------------------------

NET_HDR = 12
RXQ, TXQ = 0, 1


class Nic:
    def __init__(self, bus, slot):
        self.bus = bus
        self.d = Driver(bus, slot)
        assert self.d.init(2)
        self.mac = bytes(self.d.config8(i) for i in range(6))
        self.rx, self.tx = self.d.queues

    def post_rx(self, n=2, size=1526):
        bufs = []
        for _ in range(n):
            addr = self.bus.alloc(size)
            self.rx.add([(addr, size, True)])
            bufs.append(addr)
        self.d.notify(RXQ)
        return bufs

    def send(self, dst, payload, ethertype=0x88B5):
        frame = dst + self.mac + struct.pack(">H", ethertype) + payload
        addr = self.bus.alloc(NET_HDR + len(frame))
        self.bus.m.write_phys(addr, bytes(NET_HDR) + frame)
        self.tx.add([(addr, NET_HDR + len(frame), False)])
        self.d.notify(TXQ)
        return frame


def test_two_nics_exchange_frames_both_ways():
    m, bus, board = make(nets=["lan", "lan"])
    a, b = Nic(bus, 0), Nic(bus, 1)
    assert a.d.reg(vm.DEVICE_ID) == 1
    assert a.mac == bytes.fromhex("525400000001") and b.mac == bytes.fromhex("525400000002")
    assert a.d.features() & (1 << 5)                              # VIRTIO_NET_F_MAC
    assert struct.unpack("<H", bytes(a.d.config8(i) for i in (6, 7)))[0] == 1   # link up
    rx_a, rx_b = a.post_rx(), b.post_rx()

    f1 = a.send(b.mac, b"hello from a" + bytes(40))
    assert a.tx.take_used() != []                                  # tx buffer returned
    f2 = b.send(a.mac, b"and back from b" + bytes(40))
    bus.advance(100_000)

    for nic, bufs, frame in ((b, rx_b, f1), (a, rx_a, f2)):
        used = nic.rx.take_used()
        assert used == [(0, NET_HDR + len(frame))]
        hdr = bus.m.read_phys(bufs[0], NET_HDR)
        assert struct.unpack("<BBHHHHH", hdr) == (0, 0, 0, 0, 0, 0, 1)   # num_buffers = 1
        assert bus.m.read_phys(bufs[0] + NET_HDR, len(frame)) == frame
        assert nic.d.ack_interrupt() & vm.INT_USED_BUFFER
    st = m.stats()["devices"]
    assert st["virtio0"]["tx_frames"] == 1 and st["virtio0"]["rx_frames"] == 1
    assert st["virtio1"]["rx_bytes"] == len(f1)


def test_frames_wait_for_receive_buffers():
    m, bus, board = make(nets=["lan", "lan"])
    a, b = Nic(bus, 0), Nic(bus, 1)
    frames = [a.send(b"\xff" * 6, bytes([k]) * 50) for k in range(3)]   # broadcast
    bus.advance(100_000)
    assert b.rx.take_used() == []
    assert m.stats()["devices"]["virtio1"]["backlog"] == 3
    bufs = b.post_rx(2)                            # room for two: the oldest two arrive
    used = b.rx.take_used()
    assert [n for _, n in used] == [NET_HDR + 64, NET_HDR + 64]
    assert [bus.m.read_phys(x + NET_HDR, 64) for x in bufs] == frames[:2]
    bufs = b.post_rx(1)
    assert bus.m.read_phys(bufs[0] + NET_HDR, 64) == frames[2]
    # the sender never receives its own broadcast
    assert m.stats()["devices"]["virtio0"]["rx_frames"] == 0


def test_separate_segments_do_not_talk():
    m, bus, board = make(nets=["lan", "dmz"])
    a, b = Nic(bus, 0), Nic(bus, 1)
    b.post_rx()
    a.send(b"\xff" * 6, bytes(50))
    bus.advance(100_000)
    assert b.rx.take_used() == []


def test_net_bad_tx_header_is_dropped_and_counted():
    m, bus, board = make(nets=["lan", "lan"])
    a, b = Nic(bus, 0), Nic(bus, 1)
    b.post_rx()
    addr = bus.alloc(80)
    m.write_phys(addr, bytes([1]) + bytes(79))           # NEEDS_CSUM, not negotiated
    a.tx.add([(addr, 80, False)])
    a.d.notify(TXQ)
    bus.advance(100_000)
    assert a.tx.take_used() == [(0, 0)]
    assert b.rx.take_used() == []
    st = m.stats()["devices"]["virtio0"]
    assert st["tx_dropped"] == 1 and st["errors"] == 1


# ---- goldfish RTC -----------------------------------------------------------------------------

RTC = physmap.RTC_BASE


def rtc_time(bus):
    low = bus.read32(RTC + rtcmod.TIME_LOW)              # latches the high half
    return bus.read32(RTC + rtcmod.TIME_HIGH) << 32 | low


def test_rtc_time_follows_simulated_time():
    m, bus, board = make()
    t0 = rtc_time(bus)
    assert t0 == rtcmod.DEFAULT_EPOCH_NS                 # 2026-01-01, every run
    bus.advance(200_000_000)                             # one second at 200 MHz
    assert rtc_time(bus) - t0 == 10**9
    bus.advance(3)
    assert rtc_time(bus) - t0 == 10**9 + 15              # 5 ns per cycle


def test_rtc_clock_and_start_are_parameters():
    m, bus, board = make(clock_hz=100_000_000, rtc_start_ns=123 * 10**9)
    bus.advance(100_000_000)
    assert rtc_time(bus) == 124 * 10**9


def test_rtc_set_time():
    m, bus, board = make()
    bus.write32(RTC + rtcmod.TIME_HIGH, 0)
    bus.write32(RTC + rtcmod.TIME_LOW, 5000)
    assert rtc_time(bus) == 5000
    bus.advance(2)
    assert rtc_time(bus) == 5010


def test_rtc_alarm_interrupts_on_ip5():
    m, bus, board = make()
    now = rtc_time(bus)
    when = now + 1_000_000                               # 1 ms ahead = 200,000 cycles
    bus.write32(RTC + rtcmod.IRQ_ENABLED, 1)
    bus.write32(RTC + rtcmod.ALARM_HIGH, when >> 32)
    bus.write32(RTC + rtcmod.ALARM_LOW, when & 0xFFFFFFFF)
    assert bus.read32(RTC + rtcmod.ALARM_STATUS) == 1
    bus.advance(199_999)
    assert not bus.irq_lines() & (1 << physmap.IRQ_RTC)
    bus.advance(1)
    assert bus.irq_lines() & (1 << physmap.IRQ_RTC)
    assert bus.read32(RTC + rtcmod.ALARM_STATUS) == 0
    bus.write32(RTC + rtcmod.CLEAR_INTERRUPT, 1)
    assert not bus.irq_lines() & (1 << physmap.IRQ_RTC)
    # a cleared alarm never fires
    bus.write32(RTC + rtcmod.ALARM_LOW, (when + 10**6) & 0xFFFFFFFF)
    bus.write32(RTC + rtcmod.CLEAR_ALARM, 1)
    bus.advance(10**7)
    assert not bus.irq_lines() & (1 << physmap.IRQ_RTC)
    assert m.stats()["devices"]["rtc"]["alarms_fired"] == 1


# ---- a bare-metal driver on the simulated CPU ---------------------------------------------------

@pytest.mark.skipif(shutil.which("mipsel-linux-gnu-gcc") is None, reason="no cross compiler")
@pytest.mark.parametrize("where", [(), ("--vm", "--timing")], ids=["bare", "vm-timing"])
def test_bare_metal_virtio_blk_driver(tmp_path, where):
    """The driver on the bare machine, and inside a VM (DMA through the pmap) in timing
    mode (DMA writes invalidate cached lines): the disk image ends the same."""
    out = tmp_path / "build"
    subprocess.run(["make", "-s", "-C", str(ROOT / "guests" / "virtio"), f"OUT={out}"],
                   check=True)
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(512 * 16))
    p = subprocess.run([sys.executable, "-m", "discovm", "run", "--kernel",
                        str(out / "blktest.elf"), "--disk", str(img), *where,
                        "--max-instructions", "50000000", "--stats", str(tmp_path / "s.json")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "virtio-blk test: OK" in p.stdout
    raw = img.read_bytes()
    # the program writes sector 2 with bytes (i * 7 + 1) & 0xFF and leaves the rest alone
    assert raw[1024:1536] == bytes((i * 7 + 1) & 0xFF for i in range(512))
    assert raw[:1024] == bytes(1024) and raw[1536:] == bytes(512 * 13)
    stats = json.loads((tmp_path / "s.json").read_text())
    if where:
        assert stats["cpus"][0]["cache"]["hits"] > 0
        return
    st = stats["devices"]["virtio0"]
    assert st["writes"] == 1 and st["reads"] >= 1 and st["flushes"] == 1
    assert st["errors"] == 0
