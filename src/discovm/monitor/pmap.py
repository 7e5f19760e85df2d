"""Machine memory for virtual machines: the pmap and the memmap (paper section 4.2.2-4.2.3).

* The **pmap** of a VM has one entry per guest-physical page: the machine page backing it,
  or -1 while the guest has not touched it.  Pages are allocated on first touch
  (demand-zero) from the NUMA node of the touching VCPU, so that memory follows the CPUs
  that use it.
* The **memmap** has one entry per machine page: which VM and which guest page use it
  (-1: free).  The monitor uses it to find the users of a page when it must revoke their
  mappings (TLB shootdowns, and later migration, replication and copy-on-write).

Machine pages are numbered from 0 over the machine's RAM as the engine sees it (host
offsets / 4096), so a machine page number turns directly into an EntryLo PFN only for
the RAM below the device window; :meth:`MachineMemory.pfn` converts.
"""

import numpy as np

from ..hw import physmap


class OutOfMemory(Exception):
    pass


class MachineMemory:
    """The free machine pages, per NUMA node, and the memmap."""

    def __init__(self, machine):
        self.machine = machine
        self.npages = machine.mem_size // 4096
        self.nodes = machine.nodes
        per_node = self.npages // self.nodes
        # Free lists as stacks, lowest page on top, so allocation order is deterministic.
        self.free = [list(range((n + 1) * per_node - 1, n * per_node - 1, -1))
                     for n in range(self.nodes)]
        self.owner_vm = np.full(self.npages, -1, np.int64)     # memmap: VM id ...
        self.owner_gpage = np.full(self.npages, -1, np.int64)  # ... and its guest page

    def node_of(self, mpage):
        return min(mpage * self.nodes // self.npages, self.nodes - 1)

    def allocate(self, node, vm_id, gpage):
        """A zeroed machine page, from ``node`` if it has one, else from the nearest."""
        for k in range(self.nodes):
            pool = self.free[(node + k) % self.nodes]
            if pool:
                mpage = pool.pop()
                off = mpage * 4096
                self.machine.mem[off:off + 4096] = 0        # demand-zero
                self.owner_vm[mpage] = vm_id
                self.owner_gpage[mpage] = gpage
                return mpage
        raise OutOfMemory("the machine has no free memory left")

    def release(self, mpage):
        self.free[self.node_of(mpage)].append(mpage)
        self.owner_vm[mpage] = -1
        self.owner_gpage[mpage] = -1

    def used(self):
        return int((self.owner_vm >= 0).sum())

    @staticmethod
    def pfn(mpage):
        """EntryLo PFN (physical page number) of machine page ``mpage``."""
        off = mpage * 4096
        if off < physmap.DEVICE_WINDOW:
            return mpage
        return (off - physmap.DEVICE_WINDOW + physmap.HIGH_RAM_BASE) >> 12


class Pmap:
    """Guest-physical page -> machine page, for one VM."""

    def __init__(self, memory, vm_id, size):
        self.memory = memory
        self.vm_id = vm_id
        self.npages = size // 4096
        self.mpage = np.full(self.npages, -1, np.int64)

    def lookup(self, gpage, node):
        """The machine page behind guest page ``gpage``, allocated now if needed."""
        m = self.mpage[gpage]
        if m < 0:
            m = self.memory.allocate(node, self.vm_id, gpage)
            self.mpage[gpage] = m
        return int(m)

    def allocated(self):
        return int((self.mpage >= 0).sum())

    def release_all(self):
        for m in self.mpage[self.mpage >= 0]:
            self.memory.release(int(m))
        self.mpage[:] = -1
