"""Split virtqueues: the rings a virtio driver and device share in guest memory.

Virtio 1.1, section 2.6 ("Split Virtqueues").  A virtqueue of ``num`` entries is three
areas that the *driver* allocates in RAM and whose addresses it gives the transport
(QueueDesc/QueueDriver/QueueDevice in virtio-mmio, section 4.2.2):

* the **descriptor table** (2.6.5): ``num`` descriptors of 16 bytes,
  ``{le64 addr; le32 len; le16 flags; le16 next}``; a request is a *chain* of them linked
  by ``next`` while ``flags & NEXT``; ``flags & WRITE`` marks a buffer the device writes
  (otherwise the device reads it); ``flags & INDIRECT`` (2.6.5.3) points at a further
  table of descriptors instead of at data;
* the **available ring** (2.6.6), written by the driver:
  ``{le16 flags; le16 idx; le16 ring[num]; le16 used_event}`` - the heads of chains the
  driver offers, ``idx`` counting up forever (mod 2^16);
* the **used ring** (2.6.8), written by the device:
  ``{le16 flags; le16 idx; {le32 id; le32 len} ring[num]; le16 avail_event}`` - the heads
  of the chains the device has finished with, and how many bytes it wrote into each.

The device never trusts what it reads here: an index out of range, a chain that loops or
is longer than the queue, a misused indirect table or a ring outside RAM raises
:class:`VirtqError`, which the transport turns into DEVICE_NEEDS_RESET (2.1.2).  All memory
goes through a ``mem`` object with ``dma_read(paddr, size)``/``dma_write(paddr, data)``
(the machine itself, or later a VM's guest-physical view) which raises on addresses
outside RAM.
"""

import struct

# Descriptor flags (2.6.5)
VIRTQ_DESC_F_NEXT = 1
VIRTQ_DESC_F_WRITE = 2
VIRTQ_DESC_F_INDIRECT = 4
# Available ring flags (2.6.6): the driver does not want an interrupt
VIRTQ_AVAIL_F_NO_INTERRUPT = 1

DESC_SIZE = 16
MAX_QUEUE_SIZE = 32768          # 2.6: the largest Queue Size there is
MAX_INDIRECT = 1024             # longest indirect table we accept (QEMU's limit too)


class VirtqError(Exception):
    """The driver broke the virtqueue rules; the device needs a reset."""


class Chain:
    """One request popped from the available ring: the head index and its buffers, split
    into the device-readable ones and the device-writable ones (in chain order).

    2.6.4.2: the driver puts all readable descriptors before all writable ones, so a
    request is "what the device reads" followed by "where the device writes".
    """

    def __init__(self, head, readable, writable):
        self.head = head
        self.readable = readable        # [(paddr, length)]
        self.writable = writable        # [(paddr, length)]

    @property
    def readable_len(self):
        return sum(n for _, n in self.readable)

    @property
    def writable_len(self):
        return sum(n for _, n in self.writable)

    def read(self, mem, offset=0, size=None):
        """Gather ``size`` bytes (all, if None) of the readable buffers from ``offset``."""
        if size is None:
            size = self.readable_len - offset
        return _gather(mem, self.readable, offset, size)

    def write(self, mem, data, offset=0):
        """Scatter ``data`` into the writable buffers starting at byte ``offset``."""
        _scatter(mem, self.writable, offset, data)


def _gather(mem, bufs, offset, size):
    out = bytearray()
    for addr, length in bufs:
        if size <= 0:
            break
        if offset >= length:
            offset -= length
            continue
        n = min(length - offset, size)
        out += mem.dma_read(addr + offset, n)
        size -= n
        offset = 0
    if size > 0:
        raise VirtqError("request shorter than its header says")
    return bytes(out)


def _scatter(mem, bufs, offset, data):
    data = memoryview(bytes(data))
    for addr, length in bufs:
        if not data:
            break
        if offset >= length:
            offset -= length
            continue
        n = min(length - offset, len(data))
        mem.dma_write(addr + offset, data[:n])
        data = data[n:]
        offset = 0
    if data:
        raise VirtqError("device-writable buffers too small")


class Virtqueue:
    """The device's side of one split virtqueue: its configuration (set through the
    transport's registers) and the device's private position in the rings."""

    def __init__(self, index, num_max):
        self.index = index
        self.num_max = num_max
        self.reset()

    def reset(self):
        self.num = self.num_max         # QueueNum reads back the maximum until set
        self.ready = False
        self.desc_addr = 0
        self.avail_addr = 0
        self.used_addr = 0
        self.last_avail = 0             # next available-ring entry the device will take
        self.used_idx = 0               # the used ring's idx as the device last wrote it

    # ---- reading the driver's rings ---------------------------------------------------
    def _u16(self, mem, addr):
        return struct.unpack("<H", mem.dma_read(addr, 2))[0]

    def avail_idx(self, mem):
        return self._u16(mem, self.avail_addr + 2)

    def has_available(self, mem):
        """True if the driver has offered chains the device has not taken yet."""
        return self.ready and self.avail_idx(mem) != self.last_avail

    def pop(self, mem, indirect_ok=False):
        """Take the next available chain, or None if there is none (2.6.6, 2.6.5).

        Raises VirtqError for a chain that breaks the rules and for rings outside RAM
        (mem's own error is turned into VirtqError).
        """
        if not self.ready:
            return None
        try:
            idx = self.avail_idx(mem)
            pending = (idx - self.last_avail) & 0xFFFF
            if pending == 0:
                return None
            if pending > self.num:
                raise VirtqError(f"queue {self.index}: available idx moved by {pending}, "
                                 f"more than the queue size {self.num}")
            slot = self.last_avail % self.num
            head = self._u16(mem, self.avail_addr + 4 + 2 * slot)
            chain = self._walk(mem, head, indirect_ok)
        except VirtqError:
            raise
        except Exception as e:          # DmaError from mem: a ring outside RAM
            raise VirtqError(f"queue {self.index}: {e}") from None
        self.last_avail = (self.last_avail + 1) & 0xFFFF
        return chain

    def _walk(self, mem, head, indirect_ok):
        """Follow a descriptor chain from ``head`` and check it (2.6.5.2, 2.6.5.3.1)."""
        if head >= self.num:
            raise VirtqError(f"queue {self.index}: head {head} >= queue size {self.num}")
        readable, writable = [], []
        table, table_len = self.desc_addr, self.num
        i, seen, in_indirect = head, 0, False
        while True:
            seen += 1
            # A chain longer than its table must revisit a descriptor: a loop.
            if seen > table_len:
                raise VirtqError(f"queue {self.index}: descriptor chain from {head} "
                                 "loops or is longer than the queue")
            addr, length, flags, nxt = struct.unpack(
                "<QIHH", mem.dma_read(table + DESC_SIZE * i, DESC_SIZE))
            if flags & VIRTQ_DESC_F_INDIRECT:
                # 2.6.5.3.1: only with the feature, never inside an indirect table,
                # never together with NEXT; the table is a whole number of descriptors.
                if not indirect_ok:
                    raise VirtqError(f"queue {self.index}: indirect descriptor without "
                                     "VIRTIO_F_INDIRECT_DESC")
                if in_indirect:
                    raise VirtqError(f"queue {self.index}: nested indirect table")
                if flags & VIRTQ_DESC_F_NEXT:
                    raise VirtqError(f"queue {self.index}: indirect descriptor with NEXT")
                if length == 0 or length % DESC_SIZE or length // DESC_SIZE > MAX_INDIRECT:
                    raise VirtqError(f"queue {self.index}: bad indirect table length "
                                     f"{length}")
                table, table_len = addr, length // DESC_SIZE
                i, seen, in_indirect = 0, 0, True
                continue
            if flags & VIRTQ_DESC_F_WRITE:
                writable.append((addr, length))
            elif writable:
                # 2.6.4.2: readable descriptors must all come before writable ones.
                raise VirtqError(f"queue {self.index}: device-readable descriptor after "
                                 "a device-writable one")
            else:
                readable.append((addr, length))
            if not flags & VIRTQ_DESC_F_NEXT:
                return Chain(head, readable, writable)
            i = nxt
            if i >= table_len:
                raise VirtqError(f"queue {self.index}: next {i} >= table size {table_len}")

    # ---- writing the used ring ----------------------------------------------------------
    def push(self, mem, head, written):
        """Return chain ``head`` to the driver with ``written`` bytes written (2.6.8):
        the element first, then the index, as 2.6.8.2 requires."""
        try:
            slot = self.used_idx % self.num
            mem.dma_write(self.used_addr + 4 + 8 * slot, struct.pack("<II", head, written))
            self.used_idx = (self.used_idx + 1) & 0xFFFF
            mem.dma_write(self.used_addr + 2, struct.pack("<H", self.used_idx))
        except Exception as e:          # DmaError: the used ring is outside RAM
            raise VirtqError(f"queue {self.index}: {e}") from None

    def wants_interrupt(self, mem):
        """2.6.7.2 without VIRTIO_F_EVENT_IDX: notify unless avail.flags says not to."""
        try:
            return not self._u16(mem, self.avail_addr) & VIRTQ_AVAIL_F_NO_INTERRUPT
        except Exception:
            return True
