"""The virtio-mmio transport, version 2 (virtio 1.1, section 4.2).

A virtio device is two halves: a *transport* that tells the driver how to find the device,
negotiate features, set up virtqueues and exchange notifications, and a *device type*
(block, network, ...) that says what the requests mean.  This module is the transport for
memory-mapped devices: one 0x200-byte register window per device slot
(physmap.VIRTIO_BASE + 0x200*n), all slots sharing interrupt line IP3.  The device types
are backends (virtio_blk.py, virtio_net.py) plugged into :class:`VirtioMmio`.

How a driver brings a device up (3.1.1, 4.2.3.1):

1. read MagicValue ("virt"), Version (2) and DeviceID (0 means "empty slot, skip");
2. write Status = 0 (reset), then ACKNOWLEDGE, then DRIVER;
3. read DeviceFeatures (two 32-bit halves selected by DeviceFeaturesSel), write the subset
   it understands to DriverFeatures/DriverFeaturesSel, set FEATURES_OK and read Status back:
   if FEATURES_OK did not stick, the device refused the subset;
4. for each queue: QueueSel, read QueueNumMax, write QueueNum and the three ring
   addresses, write QueueReady = 1;
5. set DRIVER_OK.  From then on the driver writes a queue's index to QueueNotify when it
   has added buffers; the device raises the interrupt with InterruptStatus bit 0 when it
   has used buffers (bit 1: configuration changed), and the driver acknowledges by
   writing those bits to InterruptACK.

The backend interface (what a device type provides)::

    device_id, num_queues, queue_num_max, features   # device-specific feature bits
    attach(transport)          # called once; keep the transport to reach memory and time
    config_bytes() -> bytes    # the device configuration space image (4.2.2: offset 0x100)
    config_write(offset, data) # driver writes a writable config field (most are read-only)
    reset()                    # forget everything: the driver wrote Status = 0
    queue_notify(queue)        # the driver added buffers to this Virtqueue (DRIVER_OK set)
    stats() -> dict            # counters for machine.stats()["devices"]

A backend raises VirtqError (or lets a DmaError escape) when the driver broke the rules; the
transport then marks the device broken with DEVICE_NEEDS_RESET (2.1.2) and counts the error.
"""

from .physmap import IRQ_VIRTIO
from .virtqueue import VirtqError, Virtqueue

MAGIC = 0x74726976              # "virt" little-endian
VERSION = 2                     # virtio-mmio version 2: the non-legacy interface
VENDOR_ID = 0x554D4551          # "QEMU", what QEMU reports; drivers do not look at it

# Register offsets (4.2.2, table 4.1).  All are 32-bit registers.
MAGIC_VALUE = 0x000
VERSION_REG = 0x004
DEVICE_ID = 0x008
VENDOR_ID_REG = 0x00C
DEVICE_FEATURES = 0x010
DEVICE_FEATURES_SEL = 0x014
DRIVER_FEATURES = 0x020
DRIVER_FEATURES_SEL = 0x024
QUEUE_SEL = 0x030
QUEUE_NUM_MAX = 0x034
QUEUE_NUM = 0x038
QUEUE_READY = 0x044
QUEUE_NOTIFY = 0x050
INTERRUPT_STATUS = 0x060
INTERRUPT_ACK = 0x064
STATUS = 0x070
QUEUE_DESC_LOW = 0x080
QUEUE_DESC_HIGH = 0x084
QUEUE_DRIVER_LOW = 0x090
QUEUE_DRIVER_HIGH = 0x094
QUEUE_DEVICE_LOW = 0x0A0
QUEUE_DEVICE_HIGH = 0x0A4
CONFIG_GENERATION = 0x0FC
CONFIG = 0x100                  # device-specific configuration space starts here
SLOT_SIZE = 0x200

# Device status bits (2.1)
ACKNOWLEDGE = 1
DRIVER = 2
DRIVER_OK = 4
FEATURES_OK = 8
DEVICE_NEEDS_RESET = 0x40
FAILED = 0x80

# InterruptStatus bits (4.2.2)
INT_USED_BUFFER = 1
INT_CONFIG_CHANGE = 2

# Reserved feature bits (6): the transport's own
VIRTIO_F_INDIRECT_DESC = 1 << 28
VIRTIO_F_EVENT_IDX = 1 << 29
VIRTIO_F_VERSION_1 = 1 << 32

TRANSPORT_FEATURES = VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC


class VirtioMmio:
    """One virtio-mmio slot.  ``backend`` None makes an empty slot: MagicValue and Version
    read as usual, DeviceID reads 0, so a driver probing the slot skips it (4.2.3.1.1, and
    what QEMU's empty virtio-mmio transports do)."""

    irq_line = IRQ_VIRTIO

    def __init__(self, machine, backend=None, name=None, mem=None):
        self.machine = machine
        self.mem = mem if mem is not None else machine   # dma_read / dma_write
        self.backend = backend
        self.name = name
        self.errors = 0
        self.last_error = None
        self.epoch = 0                  # bumped on reset: stale completions are dropped
        n = backend.num_queues if backend else 0
        self.queues = [Virtqueue(i, backend.queue_num_max) for i in range(n)]
        self.config_generation = 0
        self._reset_registers()
        if backend is not None:
            backend.attach(self)

    # ---- state --------------------------------------------------------------------------
    def _reset_registers(self):
        self.status = 0
        self.needs_reset = False
        self.device_features_sel = 0
        self.driver_features_sel = 0
        self.driver_features = 0
        self.queue_sel = 0
        self.interrupt_status = 0
        for q in self.queues:
            q.reset()

    def reset(self):
        """Device reset (2.1.1 / 4.2.2.1: writing 0 to Status)."""
        self._reset_registers()
        self.epoch += 1
        if self.backend is not None:
            self.backend.reset()

    @property
    def device_features(self):
        if self.backend is None:
            return 0
        return self.backend.features | TRANSPORT_FEATURES

    def negotiated(self, bit):
        """True if the driver accepted feature ``bit`` (a mask such as 1 << 5)."""
        return bool(self.driver_features & bit)

    @property
    def driver_ok(self):
        return bool(self.status & DRIVER_OK) and not self.needs_reset

    def irq(self):
        return self.interrupt_status != 0

    # ---- what backends call ---------------------------------------------------------------
    def used(self, queue, chain, written):
        """Give ``chain`` back to the driver with ``written`` bytes written, and interrupt
        unless the driver asked not to (2.6.8, 2.6.7.2)."""
        if not self.driver_ok:
            return
        try:
            queue.push(self.mem, chain.head, written)
        except VirtqError as e:
            self.fail(str(e))
            return
        if queue.wants_interrupt(self.mem):
            self.interrupt_status |= INT_USED_BUFFER

    def fail(self, message):
        """The driver broke the rules: set DEVICE_NEEDS_RESET and tell it with a
        configuration change interrupt (2.1.2), stop using the queues until a reset."""
        self.errors += 1
        self.last_error = message
        if not self.needs_reset:
            self.needs_reset = True
            if self.status & DRIVER_OK:
                self.interrupt_status |= INT_CONFIG_CHANGE

    def request_error(self, message):
        """A request failed with an error status the driver will see (the device itself
        stays usable): count it."""
        self.errors += 1
        self.last_error = message

    def config_changed(self):
        """The backend changed its configuration space (2.4.1: new generation)."""
        self.config_generation = (self.config_generation + 1) & 0xFFFFFFFF
        if self.status & DRIVER_OK:
            self.interrupt_status |= INT_CONFIG_CHANGE

    def schedule(self, delay, callback):
        """machine.schedule, but a callback is dropped if the device was reset since:
        a completion of a request from before the reset must not touch the new rings."""
        epoch = self.epoch

        def run():
            if self.epoch == epoch:
                callback()
        self.machine.schedule(delay, run)

    def run_backend(self, fn, *args):
        """Call backend code that walks the rings; a broken ring marks the device broken
        instead of stopping the simulator."""
        try:
            fn(*args)
        except VirtqError as e:
            self.fail(str(e))

    # ---- registers ----------------------------------------------------------------------
    def read(self, offset, size=4):
        if offset >= CONFIG:
            return self._config_read(offset - CONFIG, size)
        if size != 4 or offset & 3:
            return 0                    # 4.2.2.2: control registers are 32-bit only
        if offset == MAGIC_VALUE:
            return MAGIC
        if offset == VERSION_REG:
            return VERSION
        if offset == DEVICE_ID:
            return self.backend.device_id if self.backend else 0
        if offset == VENDOR_ID_REG:
            return VENDOR_ID
        if self.backend is None:
            return 0
        if offset == DEVICE_FEATURES:
            return (self.device_features >> (32 * self.device_features_sel)) & 0xFFFFFFFF \
                if self.device_features_sel < 2 else 0
        q = self._queue()
        if offset == QUEUE_NUM_MAX:
            return q.num_max if q else 0    # 0: this queue does not exist
        if offset == QUEUE_NUM:
            return q.num if q else 0
        if offset == QUEUE_READY:
            return int(q.ready) if q else 0
        if offset == INTERRUPT_STATUS:
            return self.interrupt_status
        if offset == STATUS:
            return self.status | (DEVICE_NEEDS_RESET if self.needs_reset else 0)
        if offset == CONFIG_GENERATION:
            return self.config_generation
        if q is not None:               # the ring addresses read back what was written
            for low, attr in ((QUEUE_DESC_LOW, "desc_addr"), (QUEUE_DRIVER_LOW, "avail_addr"),
                              (QUEUE_DEVICE_LOW, "used_addr")):
                if offset == low:
                    return getattr(q, attr) & 0xFFFFFFFF
                if offset == low + 4:
                    return getattr(q, attr) >> 32
        return 0

    def write(self, offset, value, size=4):
        value &= 0xFFFFFFFF
        if offset >= CONFIG:
            if self.backend is not None:
                data = value.to_bytes(4, "little")[:size]
                self.backend.config_write(offset - CONFIG, data)
            return
        if size != 4 or offset & 3 or self.backend is None:
            return
        if offset == DEVICE_FEATURES_SEL:
            self.device_features_sel = value
        elif offset == DRIVER_FEATURES_SEL:
            self.driver_features_sel = value
        elif offset == DRIVER_FEATURES:
            # 3.1.1: features are written before FEATURES_OK and frozen after it.
            if self.driver_features_sel < 2 and not self.status & FEATURES_OK:
                shift = 32 * self.driver_features_sel
                self.driver_features = (self.driver_features & ~(0xFFFFFFFF << shift)) \
                    | (value << shift)
        elif offset == QUEUE_SEL:
            self.queue_sel = value
        elif offset == QUEUE_NOTIFY:
            self._notify(value & 0xFFFF)
        elif offset == INTERRUPT_ACK:
            self.interrupt_status &= ~value
        elif offset == STATUS:
            self._write_status(value & 0xFF)
        else:
            self._write_queue(offset, value)

    def _queue(self):
        return self.queues[self.queue_sel] if self.queue_sel < len(self.queues) else None

    def _write_queue(self, offset, value):
        q = self._queue()
        if q is None:
            return
        if offset == QUEUE_NUM:
            # 4.2.2: QueueNum may not exceed QueueNumMax; a bad size breaks the device.
            if 0 < value <= q.num_max:
                q.num = value
            else:
                self.fail(f"queue {q.index}: QueueNum {value} not in 1..{q.num_max}")
        elif offset == QUEUE_READY:
            q.ready = bool(value & 1)
            if q.ready and self.driver_ok and self.backend is not None:
                self.run_backend(self.backend.queue_notify, q)
        else:
            for low, attr in ((QUEUE_DESC_LOW, "desc_addr"), (QUEUE_DRIVER_LOW, "avail_addr"),
                              (QUEUE_DEVICE_LOW, "used_addr")):
                if offset == low:
                    setattr(q, attr, (getattr(q, attr) & ~0xFFFFFFFF) | value)
                elif offset == low + 4:
                    setattr(q, attr, (getattr(q, attr) & 0xFFFFFFFF) | (value << 32))

    def _write_status(self, value):
        if value == 0:
            self.reset()
            return
        if value & FEATURES_OK and not self.status & FEATURES_OK:
            # 3.1.1 step 5-6: accept the driver's subset only if it is a subset of what we
            # offer and includes VERSION_1 (this device has no legacy interface).
            if self.driver_features & ~self.device_features or \
                    not self.driver_features & VIRTIO_F_VERSION_1:
                value &= ~FEATURES_OK
        became_ok = value & DRIVER_OK and not self.status & DRIVER_OK
        self.status = value
        if became_ok and self.backend is not None:
            # Buffers the driver queued before DRIVER_OK may now be used (3.1.1 step 8).
            for q in self.queues:
                if q.ready:
                    self.run_backend(self.backend.queue_notify, q)

    def _notify(self, index):
        if self.driver_ok and index < len(self.queues) and self.queues[index].ready:
            self.run_backend(self.backend.queue_notify, self.queues[index])

    def _config_read(self, offset, size):
        if self.backend is None:
            return 0
        data = self.backend.config_bytes()[offset:offset + size]
        return int.from_bytes(data.ljust(size, b"\0"), "little")

    # ---- counters -----------------------------------------------------------------------
    def stats(self):
        if self.backend is None:
            return None                 # an empty slot has nothing to count
        out = {"errors": self.errors}
        out.update(self.backend.stats())
        if self.last_error:
            out["last_error"] = self.last_error
        return out
