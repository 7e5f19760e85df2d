"""The monitor calls of a Disco-aware HAL (paper 4.2.3 and 4.3.2), as a small device.

A guest that knows it runs on discovm may tell the monitor two things about its memory,
each with one 32-bit store of a guest-physical page address into this page of its
device window (only VMs have it; the device tree does not list it, so only guests written
for it use it):

======  ====================================================================
offset  meaning
======  ====================================================================
0x00    ZERO_PAGE: "give me this page zeroed": the monitor clears it (host-side,
        instead of the guest's own zeroing loop; Disco zeroed pages for IRIX)
0x04    PAGE_FREE: "this page went on my free list": noted, so that the monitor may
        take its memory back later (it keeps it for now: pmap blocks are 64 KiB)
0x08    read: pages zeroed so far; 0x0C read: pages reported free so far
======  ====================================================================
"""

HAL_BASE = 0x1F004000
ZERO_PAGE, PAGE_FREE, ZEROED, FREED = 0x00, 0x04, 0x08, 0x0C


class HalDevice:
    def __init__(self, vm):
        self.vm = vm
        self.zeroed = 0
        self.freed = set()

    def read(self, offset, size=4):
        if offset == ZEROED:
            return self.zeroed
        if offset == FREED:
            return len(self.freed)
        return 0

    def write(self, offset, value, size=4):
        gpa = value & ~0xFFF
        if not self.vm.is_ram(gpa, 4096):
            return                          # not the guest's memory: ignored
        if offset == ZERO_PAGE:
            self.vm.write_phys(gpa, bytes(4096))
            self.freed.discard(gpa)
            self.zeroed += 1
        elif offset == PAGE_FREE:
            self.freed.add(gpa)

    def stats(self):
        return {"pages_zeroed": self.zeroed, "pages_reported_free": len(self.freed)}
