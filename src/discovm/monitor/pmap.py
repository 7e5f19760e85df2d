"""Machine memory for virtual machines: the pmap and the memmap (paper section 4.2.2-4.2.3).

* The **pmap** of a VM has one entry per guest-physical page: the machine page backing it,
  or -1 while the guest has not touched it.  Pages are allocated on first touch
  (demand-zero) from the NUMA node of the touching VCPU, so that memory follows the CPUs
  that use it.
* The **memmap** has one entry per machine page: which VM and which guest page use it
  (-1: free).  The monitor uses it to find the users of a page when it must revoke their
  mappings (TLB shootdowns, and later migration, replication and copy-on-write).

Contiguity, for large hardware pages.  A 64-entry TLB of 4 KiB page pairs reaches 512 KiB;
a guest that maps its memory with large pages (the thin OS's 16 MiB entries, Linux's
kseg0) would take a TLB refill trap every few thousand instructions.  So the monitor keeps
guest-physical and machine memory contiguous where it can:

* pages are allocated in aligned **blocks** of 16 (64 KiB), contiguous in machine memory
  as in guest-physical memory: the monitor may map any block with 64 KiB hardware pages;
* the first block a VM touches in an aligned guest-physical **superblock** (1 MiB) reserves
  a whole free machine superblock for it, and the VM's later blocks in that superblock are
  placed at the same offsets: once the guest has touched all of it, the monitor maps it
  with 1 MiB hardware pages.  A reservation is not an allocation (the untouched blocks stay
  unallocated, demand-zero); when no free superblock is left, blocks are taken out of
  other reservations, which then never fill up and are simply mapped with smaller pages.
  (Reservation-based superpages, as in Navarro et al., OSDI 2002.)

Machine pages are numbered from 0 over the machine's RAM as the engine sees it (host
offsets / 4096), so a machine page number turns directly into an EntryLo PFN only for
the RAM below the device window; :meth:`MachineMemory.pfn` converts.
"""

import numpy as np

from ..hw import physmap


BLOCK = 16                      # pages per allocation block (64 KiB)
SUPER = 256                     # pages per superblock (1 MiB)
NO_RESERVATION = -1


class OutOfMemory(Exception):
    pass


class MachineMemory:
    """The free machine memory, per NUMA node, and the memmap."""

    def __init__(self, machine):
        self.machine = machine
        self.npages = machine.mem_size // 4096
        self.nodes = machine.nodes
        per_node = self.npages // self.nodes
        # Free superblocks as stacks, lowest on top: deterministic allocation.  The tail of
        # a node too small for a whole superblock is left out.
        self.free = [list(range(((n + 1) * per_node) // SUPER - 1,
                                -(-(n * per_node) // SUPER) - 1, -1))
                     for n in range(self.nodes)]
        self.reserved_by = np.full(-(-self.npages // SUPER), NO_RESERVATION, np.int64)
        self.owner_vm = np.full(self.npages, -1, np.int64)     # memmap: VM id ...
        self.owner_gpage = np.full(self.npages, -1, np.int64)  # ... and its guest page

    def node_of(self, mpage):
        return min(mpage * self.nodes // self.npages, self.nodes - 1)

    def reserve(self, node, vm_id):
        """A free machine superblock for ``vm_id``, from ``node`` if it has one, else from
        the next; its first page, or None if no superblock is free anywhere."""
        for k in range(self.nodes):
            pool = self.free[(node + k) % self.nodes]
            if pool:
                sb = pool.pop()
                self.reserved_by[sb] = vm_id
                return sb * SUPER
        return None

    def loose_block(self, node):
        """A free block inside some reservation (preferably on ``node``): memory is short,
        so that reservation will not fill up."""
        free_blocks = np.nonzero(self.owner_vm[::BLOCK] < 0)[0] * BLOCK
        free_blocks = free_blocks[self.reserved_by[free_blocks // SUPER] != NO_RESERVATION]
        if not len(free_blocks):
            raise OutOfMemory("the machine has no free memory left")
        mine = free_blocks[[self.node_of(int(b)) == node for b in free_blocks]]
        return int((mine if len(mine) else free_blocks)[0])

    def take(self, first, vm_id, gpage):
        """Hand the block at machine page ``first`` to ``vm_id`` for the guest block holding
        ``gpage``, zeroed (demand-zero), and record it in the memmap."""
        self.machine.mem[first * 4096:(first + BLOCK) * 4096] = 0
        gfirst = gpage - gpage % BLOCK
        self.owner_vm[first:first + BLOCK] = vm_id
        self.owner_gpage[first:first + BLOCK] = np.arange(gfirst, gfirst + BLOCK)

    def release(self, first):
        """Give the block at machine page ``first`` back; a superblock left with no block
        in use goes back on its node's free list."""
        self.owner_vm[first:first + BLOCK] = -1
        self.owner_gpage[first:first + BLOCK] = -1
        sb = first // SUPER
        if self.reserved_by[sb] != NO_RESERVATION and \
                (self.owner_vm[sb * SUPER:(sb + 1) * SUPER] < 0).all():
            self.reserved_by[sb] = NO_RESERVATION
            self.free[self.node_of(sb * SUPER)].append(sb)

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
        # machine superblock reserved for each guest superblock (first page, or -1)
        self.reservation = np.full(-(-self.npages // SUPER), -1, np.int64)

    def lookup(self, gpage, node):
        """The machine page behind guest page ``gpage``, allocated now (with the rest of its
        block) if needed."""
        m = self.mpage[gpage]
        if m < 0:
            first = self._place(gpage, node)
            self.memory.take(first, self.vm_id, gpage)
            g0 = gpage - gpage % BLOCK
            n = min(BLOCK, self.npages - g0)
            self.mpage[g0:g0 + n] = np.arange(first, first + n)
            m = self.mpage[gpage]
        return int(m)

    def _place(self, gpage, node):
        """Where the block of ``gpage`` goes: at its offset in this guest superblock's
        reservation while that block is still free, else wherever there is room."""
        sb = gpage // SUPER
        base = int(self.reservation[sb])
        if base < 0 or self.memory.reserved_by[base // SUPER] != self.vm_id:
            base = self.memory.reserve(node, self.vm_id)
            if base is None:
                return self.memory.loose_block(node)
            self.reservation[sb] = base
        first = base + (gpage % SUPER) // BLOCK * BLOCK
        if self.memory.owner_vm[first] >= 0:           # taken while memory was short
            return self.memory.loose_block(node)
        return first

    def allocated(self):
        return int((self.mpage >= 0).sum())

    def release_all(self):
        for first in self.mpage[::BLOCK]:
            if first >= 0:
                self.memory.release(int(first))
        self.mpage[:] = -1
        self.reservation[:] = -1
