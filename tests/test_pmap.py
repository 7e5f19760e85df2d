"""The pmap's allocator: demand-zero blocks, superblock reservations, memory pressure."""

import numpy as np
import pytest

from discovm.monitor.pmap import BLOCK, SUPER, MachineMemory, OutOfMemory, Pmap


class FakeMachine:
    def __init__(self, mib, nodes):
        self.mem_size = mib << 20
        self.nodes = nodes
        self.mem = np.full(self.mem_size, 0xAA, np.uint8)      # dirty: zeroing is visible


def test_blocks_of_a_superblock_land_contiguously_and_zeroed():
    memory = MachineMemory(FakeMachine(8, 2))
    pm = Pmap(memory, 0, 4 << 20)
    second = pm.lookup(3 * BLOCK + 5, node=1)      # touch block 3 first ...
    first = pm.lookup(0, node=1)                   # ... then block 0 of the same superblock
    assert second == first + 3 * BLOCK + 5          # same offsets as guest-physical
    assert first % SUPER == 0 and memory.node_of(first) == 1
    assert (memory.machine.mem[first * 4096:(first + BLOCK) * 4096] == 0).all()
    assert pm.allocated() == 2 * BLOCK              # reserved is not allocated
    assert memory.used() == 2 * BLOCK


def test_memory_pressure_breaks_reservations_but_never_shares_a_page():
    memory = MachineMemory(FakeMachine(2, 1))      # two superblocks in all
    a, b, c = (Pmap(memory, i, 2 << 20) for i in range(3))
    a.lookup(0, 0)
    b.lookup(0, 0)                                 # both superblocks now reserved
    owners = {}
    for pm in (c, a, b, c):
        for g in range(0, 2 << 8, BLOCK):
            try:
                m = pm.lookup(g, 0)
            except OutOfMemory:
                break
            owners.setdefault(m, set()).add(pm.vm_id)
    assert all(len(v) == 1 for v in owners.values())
    assert memory.used() == memory.npages           # every block ended up used
    with pytest.raises(OutOfMemory):
        Pmap(memory, 3, 1 << 20).lookup(0, 0)


def test_released_superblock_is_free_again():
    memory = MachineMemory(FakeMachine(2, 1))
    pm = Pmap(memory, 0, 2 << 20)
    pm.lookup(0, 0)
    pm.lookup(SUPER, 0)
    pm.release_all()
    assert memory.used() == 0 and sorted(memory.free[0]) == [0, 1]
    assert (memory.reserved_by == -1).all()
