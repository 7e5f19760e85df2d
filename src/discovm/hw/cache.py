"""Timing mode: a per-CPU cache in front of NUMA memory, with FLASH-style miss counters.

Each CPU has one set-associative cache (default like the paper's setup, section 5.1:
1 MiB, 128-byte lines, 2-way) kept coherent by a directory of sharers per line: a write
invalidates the other CPUs' copies.  A miss costs the latency of the line's home node:
``local`` cycles if it is the CPU's own node, ``remote`` otherwise (300 ns and 900 ns at the
configured clock).  Like FLASH's hardware, the model counts misses per machine page per
node (``counters[page * nodes + node]``): the monitor's NUMA policy reads and resets them
(paper section 4.2.3).

The engine looks only when an access leaves the line it touched last, so straight-line
code and sequential data pay for one lookup per line, not per access.  It does the hit path
of :func:`cache_access` itself, inside its loop (tag compare in the set, LRU stamp, hit
count: calling out with the model's arrays cost more than the check), and calls
:func:`cache_access` for misses and for writes to lines other CPUs share.  The layout
(``tags[(cpu * sets + set) * ways + way]``, one global LRU stamp) is shared by both.  In
functional mode the engine is given ``tm = None`` and numba removes every trace of this.
"""

import numpy as np

from .cpu_state import (S_CACHE_HITS, S_CACHE_INVALIDATIONS, S_CPUNUM, S_MISS_LOCAL,
                        S_MISS_REMOTE, S_NODE, S_STALL)
from .jit import jit

# slots of the parameter array
P_SETS, P_WAYS, P_LINE_SHIFT, P_NODE_BYTES, P_NODES, P_LOCAL, P_REMOTE, P_CLOCK = range(8)
P_STAMP = 8           # global access counter for LRU
N_PARAMS = 9


class CacheModel:
    """The arrays of the timing model for a whole machine (handed to the engine as ``tm``)."""

    def __init__(self, ncpus, mem_bytes, nodes, size=1 << 20, line=128, ways=2,
                 clock_hz=200_000_000, local_ns=300, remote_ns=900):
        sets = size // (line * ways)
        if sets < 1 or sets & (sets - 1) or line & (line - 1) or line < 16:
            raise ValueError("cache geometry: line size and number of sets must be powers "
                             "of two (size = sets x ways x line)")
        self.nodes = nodes
        self.line = line
        lines = (mem_bytes + line - 1) // line
        pages = (mem_bytes + 4095) // 4096
        self.tags = np.full(ncpus * sets * ways, -1, np.int64)
        self.stamps = np.zeros(ncpus * sets * ways, np.int64)
        self.sharers = np.zeros(lines, np.int64)
        self.counters = np.zeros(pages * nodes, np.int64)
        self.params = np.zeros(N_PARAMS, np.int64)
        p = self.params
        p[P_SETS], p[P_WAYS], p[P_LINE_SHIFT] = sets, ways, line.bit_length() - 1
        p[P_NODE_BYTES] = max(4096, -(-mem_bytes // nodes))
        p[P_NODES] = nodes
        p[P_LOCAL] = max(1, round(local_ns * clock_hz / 1e9))
        p[P_REMOTE] = max(1, round(remote_ns * clock_hz / 1e9))
        p[P_CLOCK] = clock_hz

    def engine_args(self):
        return (self.tags, self.stamps, self.sharers, self.counters, self.params)

    def page_misses(self):
        """Misses per page and node as a (pages, nodes) array (a view: reset with [:] = 0)."""
        return self.counters.reshape(-1, self.nodes)


@jit
def _drop(tags, sharers, params, cpu, line):
    """Remove ``line`` from ``cpu``'s cache (another CPU wrote it)."""
    sets = params[P_SETS]
    ways = params[P_WAYS]
    base = (cpu * sets + (line & (sets - 1))) * ways
    for w in range(ways):
        if tags[base + w] == line:
            tags[base + w] = -1


@jit
def cache_access(tm, s, line, write):
    """One access by the CPU of ``s`` to ``line`` (host offset >> line shift); returns the
    extra cycles it costs."""
    tags, stamps, sharers, counters, params = tm
    me = s[S_CPUNUM]
    sets = params[P_SETS]
    ways = params[P_WAYS]
    base = (me * sets + (line & (sets - 1))) * ways
    params[P_STAMP] += 1
    stamp = params[P_STAMP]
    way = -1
    for w in range(ways):
        if tags[base + w] == line:
            way = w
    home = (line << params[P_LINE_SHIFT]) // params[P_NODE_BYTES]
    latency = params[P_LOCAL] if home == s[S_NODE] else params[P_REMOTE]
    cost = 0
    if way >= 0:
        s[S_CACHE_HITS] += 1
    else:
        way = 0                                     # least recently used way is the victim
        for w in range(1, ways):
            if stamps[base + w] < stamps[base + way]:
                way = w
        old = tags[base + way]
        if old >= 0:
            sharers[old] &= ~(1 << me)
        tags[base + way] = line
        sharers[line] |= 1 << me
        cost = latency
        if home == s[S_NODE]:
            s[S_MISS_LOCAL] += 1
        else:
            s[S_MISS_REMOTE] += 1
        page = (line << params[P_LINE_SHIFT]) >> 12
        counters[page * params[P_NODES] + s[S_NODE]] += 1
    stamps[base + way] = stamp
    if write:
        others = sharers[line] & ~(1 << me)
        if others:
            for cpu in range(64):
                if others >> cpu & 1:
                    _drop(tags, sharers, params, cpu, line)
                    s[S_CACHE_INVALIDATIONS] += 1
            sharers[line] = 1 << me
            cost = max(cost, latency)               # ownership comes from the home node
    s[S_STALL] += cost
    return cost


@jit
def dma_write(tm, start, size):
    """A device wrote machine memory [start, start+size): no CPU may keep the old lines."""
    tags, stamps, sharers, counters, params = tm
    shift = params[P_LINE_SHIFT]
    for line in range(start >> shift, (start + size + (1 << shift) - 1) >> shift):
        holders = sharers[line]
        if holders:
            for cpu in range(64):
                if holders >> cpu & 1:
                    _drop(tags, sharers, params, cpu, line)
            sharers[line] = 0
