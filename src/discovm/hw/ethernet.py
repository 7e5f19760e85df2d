"""A simulated Ethernet segment: a learning switch that network cards plug into.

An endpoint is any object with ``receive(frame: bytes)`` (and, for the counters, a
``name``).  ``segment.attach(endpoint)`` gives it a port; ``port.send(frame)`` puts a frame
on the wire.  The switch delivers it ``latency`` cycles later, in simulated time:

* to the port that last sent from the frame's destination MAC, if it has learned it;
* otherwise (broadcast, multicast, unknown unicast) to every other port, in the order the
  ports were attached.

Frames are delivered in the order they were sent (the machine's event queue breaks ties
by insertion order), so a run is deterministic.  The segment belongs to one machine (it
uses that machine's clock); Disco's virtual subnet between VMs will be such a segment too.
"""

# Default one-way latency: 10 microseconds at 200 MHz (2,000 cycles), a switch hop on
# a LAN; the paper's NFS-over-virtual-subnet numbers do not depend on it.
DEFAULT_LATENCY = 2_000
MIN_FRAME = 14                  # destination, source, EtherType
MAX_FRAME = 1514                # without the FCS: 1500 bytes of payload + 14 of header
BROADCAST = b"\xff" * 6


class Port:
    """One endpoint's connection to the segment."""

    def __init__(self, segment, endpoint, number):
        self.segment = segment
        self.endpoint = endpoint
        self.number = number

    def send(self, frame):
        self.segment._send(self, bytes(frame))


class EthernetSegment:
    def __init__(self, machine, name="lan", latency=DEFAULT_LATENCY):
        self.machine = machine
        self.name = name
        self.latency = int(latency)
        self.ports = []
        self.mac_table = {}             # MAC -> Port that last sent from it
        self.frames = 0                 # frames carried
        self.bytes = 0
        self.dropped = 0                # malformed frames (too short or too long)

    def attach(self, endpoint):
        port = Port(self, endpoint, len(self.ports))
        self.ports.append(port)
        return port

    def _send(self, port, frame):
        if not MIN_FRAME <= len(frame) <= MAX_FRAME:
            self.dropped += 1
            return
        dst, src = frame[0:6], frame[6:12]
        if not src[0] & 1:              # learn unicast sources only
            self.mac_table[src] = port
        out = self.mac_table.get(dst) if not dst[0] & 1 else None
        targets = [out] if out is not None else self.ports
        self.frames += 1
        self.bytes += len(frame)
        for p in targets:
            if p is not port:
                self.machine.schedule(self.latency,
                                      lambda e=p.endpoint: e.receive(frame))

    def stats(self):
        return {"ports": len(self.ports), "frames": self.frames, "bytes": self.bytes,
                "dropped": self.dropped}
