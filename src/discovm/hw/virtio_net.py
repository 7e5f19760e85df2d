"""virtio-net: a network card on a simulated Ethernet segment (virtio 1.1, section 5.1).

Two virtqueues: 0 = receiveq1, 1 = transmitq1 (5.1.2; no control queue, no multiqueue).
Every packet in either direction is preceded by a header; with VIRTIO_F_VERSION_1 it is
12 bytes long, ``num_buffers`` included (5.1.6)::

    struct virtio_net_hdr {
        u8 flags;  u8 gso_type;  le16 hdr_len;  le16 gso_size;
        le16 csum_start;  le16 csum_offset;  le16 num_buffers;
    };

We offer no checksum or segmentation offloads, so a transmitted header must say
``flags = 0, gso_type = GSO_NONE`` and a received one says the same with num_buffers = 1.

Transmit: the driver queues ``header + frame`` (device-readable) on transmitq and notifies;
the device hands the frame to the segment and returns the buffer at once.
Receive: the driver keeps empty device-writable buffers on receiveq; a frame arriving from
the segment goes into the next one (header + frame).  If there is none, the frame waits in
a backlog (bounded) until the driver posts buffers and notifies.
"""

import struct
from collections import deque

from .virtqueue import VirtqError

VIRTIO_ID_NET = 1

# Feature bits (5.1.3)
VIRTIO_NET_F_MAC = 1 << 5
VIRTIO_NET_F_STATUS = 1 << 16
VIRTIO_NET_S_LINK_UP = 1

HDR = struct.Struct("<BBHHHHH")         # virtio_net_hdr with num_buffers: 12 bytes
VIRTIO_NET_HDR_GSO_NONE = 0
RX, TX = 0, 1
QUEUE_SIZE = 256
BACKLOG = 256                           # frames kept while the driver posts no buffers


class VirtioNet:
    device_id = VIRTIO_ID_NET
    num_queues = 2
    queue_num_max = QUEUE_SIZE
    features = VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS

    def __init__(self, mac, segment=None):
        self.mac = bytes(mac)
        if len(self.mac) != 6 or self.mac[0] & 1:
            raise ValueError("a network card's MAC is 6 bytes, unicast")
        self.name = "virtio-net"
        self.port = segment.attach(self) if segment is not None else None
        self.t = None
        self.backlog = deque()
        self.counters = dict(tx_frames=0, tx_bytes=0, rx_frames=0, rx_bytes=0,
                             rx_dropped=0, tx_dropped=0)

    def attach(self, transport):
        self.t = transport

    # ---- configuration space (5.1.4): mac[6], status ------------------------------------
    def config_bytes(self):
        link = VIRTIO_NET_S_LINK_UP if self.port is not None else 0
        return self.mac + struct.pack("<H", link)

    def config_write(self, offset, data):
        pass                            # the MAC is read-only in virtio 1.x (5.1.4.1)

    def reset(self):
        self.backlog.clear()

    # ---- the driver notified a queue ------------------------------------------------------
    def queue_notify(self, queue):
        if queue.index == TX:
            self._transmit(queue)
        else:
            self._deliver_backlog()

    def _transmit(self, queue):
        mem = self.t.mem
        while True:
            chain = queue.pop(mem, self.t.negotiated(1 << 28))
            if chain is None:
                return
            try:
                packet = chain.read(mem)
                if len(packet) < HDR.size:
                    raise VirtqError(f"transmitted packet of {len(packet)} bytes is "
                                     "shorter than the virtio-net header")
                flags, gso, *_ = HDR.unpack(packet[:HDR.size])
                if flags or gso != VIRTIO_NET_HDR_GSO_NONE:
                    # 5.1.6.2.1: offloads we did not offer must not be asked for.
                    raise VirtqError(f"transmit header asks for offloads (flags {flags}, "
                                     f"gso_type {gso}) that were not negotiated")
                frame = packet[HDR.size:]
            except Exception as e:      # VirtqError or a buffer outside RAM: drop it
                self.counters["tx_dropped"] += 1
                self.t.request_error(f"virtio-net: {e}")
            else:
                self.counters["tx_frames"] += 1
                self.counters["tx_bytes"] += len(frame)
                if self.port is not None:
                    self.port.send(frame)
            self.t.used(queue, chain, 0)

    # ---- frames from the segment ------------------------------------------------------------
    def receive(self, frame):
        """Called by the segment (in a machine event) with a frame for this card."""
        if len(self.backlog) >= BACKLOG:
            self.counters["rx_dropped"] += 1
            return
        self.backlog.append(frame)
        self.t.run_backend(self._deliver_backlog)

    def _deliver_backlog(self):
        """Put waiting frames into posted receive buffers, oldest first."""
        t = self.t
        if not t.driver_ok:
            return
        queue = t.queues[RX]
        while self.backlog and queue.has_available(t.mem):
            chain = queue.pop(t.mem, t.negotiated(1 << 28))
            frame = self.backlog.popleft()
            packet = HDR.pack(0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0, 1) + frame
            try:
                if chain.readable or chain.writable_len < len(packet):
                    raise VirtqError(f"receive buffer of {chain.writable_len} bytes for a "
                                     f"{len(packet)}-byte packet")
                chain.write(t.mem, packet)
            except Exception as e:      # too small, readable, or outside RAM: drop frame
                self.counters["rx_dropped"] += 1
                t.request_error(f"virtio-net: {e}")
                t.used(queue, chain, 0)
                continue
            self.counters["rx_frames"] += 1
            self.counters["rx_bytes"] += len(frame)
            t.used(queue, chain, len(packet))

    def stats(self):
        return {"type": "virtio-net", "mac": ":".join(f"{b:02x}" for b in self.mac),
                "backlog": len(self.backlog), **self.counters}
