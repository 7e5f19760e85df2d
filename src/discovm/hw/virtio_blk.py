"""virtio-blk: a disk backed by a raw image file on the host (virtio 1.1, section 5.2).

One virtqueue (``requestq``).  Each request is a descriptor chain (5.2.6)::

    struct virtio_blk_req {
        le32 type;          /* VIRTIO_BLK_T_IN, T_OUT, T_FLUSH, T_GET_ID, ...      */
        le32 reserved;
        le64 sector;        /* in 512-byte units whatever the block size           */
        u8   data[];        /* device-readable for T_OUT, device-writable otherwise */
        u8   status;        /* device-writable: VIRTIO_BLK_S_OK / IOERR / UNSUPP     */
    };

The 16-byte header is device-readable, the status byte is the last device-writable byte.

The disk is a single server: requests are taken off the ring when the driver notifies,
and each one completes ``latency`` cycles after the previous one (or after its own
arrival if the disk was idle).  At completion the data moves (guest memory <-> image file),
the chain goes on the used ring and the interrupt rises.  Everything is in simulated
time, so a run is deterministic.
"""

import os
import struct

from .virtqueue import VirtqError

VIRTIO_ID_BLOCK = 2

# Feature bits (5.2.3)
VIRTIO_BLK_F_SEG_MAX = 1 << 2
VIRTIO_BLK_F_RO = 1 << 5
VIRTIO_BLK_F_BLK_SIZE = 1 << 6
VIRTIO_BLK_F_FLUSH = 1 << 9

# Request types and status values (5.2.6)
VIRTIO_BLK_T_IN = 0
VIRTIO_BLK_T_OUT = 1
VIRTIO_BLK_T_FLUSH = 4
VIRTIO_BLK_T_GET_ID = 8
VIRTIO_BLK_S_OK = 0
VIRTIO_BLK_S_IOERR = 1
VIRTIO_BLK_S_UNSUPP = 2
VIRTIO_BLK_ID_BYTES = 20

SECTOR = 512
HEADER = struct.Struct("<IIQ")          # type, reserved, sector
QUEUE_SIZE = 256
SEG_MAX = QUEUE_SIZE - 2                # data segments per request (header and status aside)

# Default time from a request's start to its completion: 100 microseconds at the default
# 200 MHz clock (20,000 cycles), about a fast SSD; Disco's paper-era disks took ~10 ms.
DEFAULT_LATENCY = 20_000


class DiskImageError(Exception):
    """A disk image that cannot be used (message is one line, fit for the user)."""


class VirtioBlk:
    device_id = VIRTIO_ID_BLOCK
    num_queues = 1
    queue_num_max = QUEUE_SIZE

    def __init__(self, path, read_only=False, latency=DEFAULT_LATENCY, serial=None,
                 persistent=True):
        self.path = str(path)
        # A non-persistent disk (DESIGN.md's ``persistent = false``) never writes its
        # image: the guest's writes stay in memory, per sector, and are lost at power-off.
        # (The monitor's shared copy-on-write disks will replace this simple overlay.)
        self.overlay = None if persistent else {}
        try:
            if not persistent:
                self.fd = os.open(self.path, os.O_RDONLY)
                size = os.fstat(self.fd).st_size
                read_only = False
            else:
                self.fd = None
            if not read_only and not os.access(self.path, os.W_OK) \
                    and os.path.exists(self.path):
                read_only = True            # an image we may not write is a read-only disk
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDONLY if read_only else os.O_RDWR)
                size = os.fstat(self.fd).st_size
        except OSError as e:
            raise DiskImageError(f"disk image {self.path}: {e.strerror}") from None
        self.read_only = read_only
        self.capacity = size // SECTOR       # a partial last sector is not addressable
        self.latency = int(latency)
        # GET_ID answers with up to 20 bytes; default: the image's file name.
        self.serial = (serial if serial is not None
                       else os.path.basename(self.path)).encode()[:VIRTIO_BLK_ID_BYTES]
        self.features = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH \
            | (VIRTIO_BLK_F_RO if read_only else 0)
        self.t = None
        self.busy_until = 0
        self.counters = dict(requests=0, reads=0, writes=0, flushes=0, bytes_read=0,
                             bytes_written=0, io_errors=0, unsupported=0)

    def attach(self, transport):
        self.t = transport

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __del__(self):
        try:
            self.close()
        except (OSError, AttributeError):
            pass

    # ---- configuration space (5.2.4) --------------------------------------------------
    def config_bytes(self):
        # capacity, size_max, seg_max, geometry (c,h,s), blk_size
        return struct.pack("<QIIHBBI", self.capacity, 0, SEG_MAX, 0, 0, 0, SECTOR)

    def config_write(self, offset, data):
        pass                                # nothing writable without CONFIG_WCE

    def reset(self):
        self.busy_until = 0                 # in-flight requests are dropped by the transport

    # ---- requests -----------------------------------------------------------------------
    def queue_notify(self, queue):
        """Take every available request now; each completes after the disk's latency."""
        mem = self.t.mem
        while True:
            chain = queue.pop(mem, self.t.negotiated(1 << 28))
            if chain is None:
                return
            self.counters["requests"] += 1
            now = self.t.machine.now()
            self.busy_until = max(now, self.busy_until) + self.latency
            self.t.schedule(self.busy_until - now,
                            lambda q=queue, c=chain: self.t.run_backend(self._complete, q, c))

    def _complete(self, queue, chain):
        mem = self.t.mem
        # The status byte: the last device-writable byte (5.2.6).  Without one there is no
        # way to report anything: the chain is malformed and the device needs a reset.
        if chain.readable_len < HEADER.size or chain.writable_len < 1:
            raise VirtqError("virtio-blk: request without header or status byte")
        status_off = chain.writable_len - 1
        status, written = self._execute(chain, mem)
        try:
            chain.write(mem, bytes((status,)), status_off)
        except VirtqError:
            raise
        except Exception as e:              # the status byte itself is outside RAM
            raise VirtqError(f"virtio-blk: status byte: {e}") from None
        self.t.used(queue, chain, written + 1)

    def _execute(self, chain, mem):
        """Carry out one request; returns (status, data bytes written to the driver)."""
        try:
            kind, _, sector = HEADER.unpack(chain.read(mem, 0, HEADER.size))
        except Exception as e:
            return self._error(f"header: {e}"), 0
        data_in = chain.writable_len - 1            # room for data going to the driver
        try:
            if kind == VIRTIO_BLK_T_IN:
                if not self._range_ok(sector, data_in):
                    return self._error(f"read of {data_in} bytes at sector {sector} "
                                       f"beyond capacity {self.capacity}"), 0
                data = self._read(sector, data_in)
                chain.write(mem, data)
                self.counters["reads"] += 1
                self.counters["bytes_read"] += data_in
                return VIRTIO_BLK_S_OK, data_in
            if kind == VIRTIO_BLK_T_OUT:
                size = chain.readable_len - HEADER.size
                if self.read_only:
                    # 5.2.6.2: IOERR for a write to a read-only device, writing nothing.
                    return self._error("write to a read-only disk"), 0
                if not self._range_ok(sector, size):
                    return self._error(f"write of {size} bytes at sector {sector} "
                                       f"beyond capacity {self.capacity}"), 0
                data = chain.read(mem, HEADER.size, size)
                self._write(sector, data)
                self.counters["writes"] += 1
                self.counters["bytes_written"] += size
                return VIRTIO_BLK_S_OK, 0
            if kind == VIRTIO_BLK_T_FLUSH:
                if not self.read_only and self.overlay is None:
                    os.fsync(self.fd)
                self.counters["flushes"] += 1
                return VIRTIO_BLK_S_OK, 0
            if kind == VIRTIO_BLK_T_GET_ID:
                # 5.2.6: up to 20 bytes, NUL-padded (no NUL if the id is 20 bytes long).
                ident = self.serial.ljust(VIRTIO_BLK_ID_BYTES, b"\0")[:data_in]
                chain.write(mem, ident)
                return VIRTIO_BLK_S_OK, len(ident)
        except VirtqError as e:
            return self._error(str(e)), 0
        except OSError as e:
            return self._error(f"{self.path}: {e.strerror}"), 0
        except Exception as e:              # DmaError: a data buffer outside RAM
            return self._error(str(e)), 0
        self.counters["unsupported"] += 1
        return VIRTIO_BLK_S_UNSUPP, 0

    def _read(self, sector, size):
        data = bytearray(os.pread(self.fd, size, sector * SECTOR))
        if self.overlay:
            for k in range(size // SECTOR):
                mine = self.overlay.get(sector + k)
                if mine is not None:
                    data[k * SECTOR:(k + 1) * SECTOR] = mine
        return bytes(data)

    def _write(self, sector, data):
        if self.overlay is None:
            os.pwrite(self.fd, data, sector * SECTOR)
            return
        for k in range(len(data) // SECTOR):
            self.overlay[sector + k] = bytes(data[k * SECTOR:(k + 1) * SECTOR])

    def _range_ok(self, sector, size):
        return size % SECTOR == 0 and sector + size // SECTOR <= self.capacity

    def _error(self, message):
        self.counters["io_errors"] += 1
        self.t.request_error(f"virtio-blk: {message}")
        return VIRTIO_BLK_S_IOERR

    def stats(self):
        return {"type": "virtio-blk", "image": self.path, "read_only": self.read_only,
                "capacity_sectors": self.capacity, **self.counters}
