"""Machine memory for virtual machines: the pmap and the memmap (paper section 4.2.2-4.2.3).

* The **pmap** of a VM has one entry per guest-physical page: the machine page backing it,
  or -1 while the guest has not touched it.  Pages are allocated on first touch
  (demand-zero) from the NUMA node of the touching VCPU, so that memory follows the CPUs
  that use it.  They are allocated in aligned blocks of 16 (64 KiB), contiguous in
  machine memory as in guest-physical memory, so that the monitor can map a guest's
  large pages and its kseg0 with 64 KiB hardware pages instead of 4 KiB ones.
* The **memmap** has one entry per machine page: which VM and which guest page use it
  (-1: free).  The monitor uses it to find the users of a page when it must revoke their
  mappings (TLB shootdowns, and later migration, replication and copy-on-write).

Machine pages are numbered from 0 over the machine's RAM as the engine sees it (host
offsets / 4096), so a machine page number turns directly into an EntryLo PFN only for
the RAM below the device window; :meth:`MachineMemory.pfn` converts.
"""

import numpy as np

from ..hw import physmap


BLOCK = 16                      # pages per allocation block (64 KiB)


class OutOfMemory(Exception):
    pass


class MachineMemory:
    """The free machine pages, per NUMA node, and the memmap."""

    def __init__(self, machine):
        self.machine = machine
        self.npages = machine.mem_size // 4096
        self.nodes = machine.nodes
        per_node = self.npages // self.nodes
        # Free blocks of BLOCK pages as stacks, lowest on top: deterministic allocation.
        self.free = [list(range(((n + 1) * per_node) // BLOCK - 1,
                                -(-(n * per_node) // BLOCK) - 1, -1))
                     for n in range(self.nodes)]
        self.owner_vm = np.full(self.npages, -1, np.int64)     # memmap: VM id ...
        self.owner_gpage = np.full(self.npages, -1, np.int64)  # ... and its guest page

    def node_of(self, mpage):
        return min(mpage * self.nodes // self.npages, self.nodes - 1)

    def allocate(self, node, vm_id, gpage):
        """A zeroed, aligned block of BLOCK machine pages for the block holding guest page
        ``gpage``, from ``node`` if it has one, else from the next; returns its first page."""
        for k in range(self.nodes):
            pool = self.free[(node + k) % self.nodes]
            if pool:
                first = pool.pop() * BLOCK
                self.machine.mem[first * 4096:(first + BLOCK) * 4096] = 0   # demand-zero
                gfirst = gpage - gpage % BLOCK
                self.owner_vm[first:first + BLOCK] = vm_id
                self.owner_gpage[first:first + BLOCK] = np.arange(gfirst, gfirst + BLOCK)
                return first
        raise OutOfMemory("the machine has no free memory left")

    def release(self, first):
        self.free[self.node_of(first)].append(first // BLOCK)
        self.owner_vm[first:first + BLOCK] = -1
        self.owner_gpage[first:first + BLOCK] = -1

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
        """The machine page behind guest page ``gpage``, allocated now (with the rest of its
        block) if needed."""
        m = self.mpage[gpage]
        if m < 0:
            first = self.memory.allocate(node, self.vm_id, gpage)
            g0 = gpage - gpage % BLOCK
            n = min(BLOCK, self.npages - g0)
            self.mpage[g0:g0 + n] = np.arange(first, first + n)
            m = self.mpage[gpage]
        return int(m)

    def allocated(self):
        return int((self.mpage >= 0).sum())

    def release_all(self):
        for first in self.mpage[::BLOCK]:
            if first >= 0:
                self.memory.release(int(first))
        self.mpage[:] = -1
