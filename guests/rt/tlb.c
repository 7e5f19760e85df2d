/*
 * tlb.c - TLB helpers and the runtime's start-up initialisation.
 *
 * The TLB holds pairs of pages: entry i maps the virtual pages VPN2*2 and VPN2*2+1
 * (EntryHi.VPN2, the "even" and "odd" page) onto EntryLo0.PFN and EntryLo1.PFN, with
 * page size set by PageMask (PRA 4.9 "TLB", 9.5 PageMask).  TLBWI writes entry
 * Index from EntryHi, EntryLo0/1 and PageMask (MIPS32 Vol. II "TLBWI").
 */
#include "rt.h"

/* Write entry `index`.  EntryHi (whose ASID field is the current address space) is
 * restored afterwards. */
void tlb_write(int index, uint32_t entryhi, uint32_t lo0, uint32_t lo1, uint32_t pagemask)
{
    uint32_t old_entryhi = mfc0(C0_ENTRYHI);
    mtc0(C0_INDEX, index);
    mtc0(C0_ENTRYHI, entryhi);
    mtc0(C0_ENTRYLO0, lo0);
    mtc0(C0_ENTRYLO1, lo1);
    mtc0(C0_PAGEMASK, pagemask);
    tlbwi();
    mtc0(C0_ENTRYHI, old_entryhi);
}

/* An entry that can never match: valid bits clear, and a VPN2 in kseg0, which is
 * never translated through the TLB.  Each entry gets a different VPN2, because two
 * entries matching the same address is an error that some CPUs answer with a
 * machine check (PRA 9.2, "TLB Shutdown"); this is what Linux does as well. */
void tlb_invalidate(int index)
{
    tlb_write(index, 0x80000000u + ((uint32_t)index << 13), 0, 0, PAGEMASK_4K);
}

void tlb_invalidate_all(void)
{
    /* Config1.MMUSize (bits 30:25) is the number of TLB entries minus one.  It is
     * read but never printed: QEMU's 24Kf has 16 entries, discovm 64. */
    int entries = ((mfc0(C0_CONFIG1) >> 25) & 0x3f) + 1;
    for (int i = 0; i < entries; i++)
        tlb_invalidate(i);
}

/* Called by _start before main (start.S).  After reset the TLB's contents are
 * undefined (PRA 9.4): make every entry unmatchable, nothing wired, ASID 0. */
void rt_init(void)
{
    mtc0(C0_WIRED, 0);
    mtc0(C0_ENTRYHI, 0);
    tlb_invalidate_all();
}

volatile struct user_exit user_exit;

/* The user window (rt.h): one global entry, two 1 MiB pages, virtual USER_WINDOW ..
 * USER_WINDOW + 2 MiB onto physical 0 .. 2 MiB, cacheable, writable. */
void user_map_window(void)
{
    uint32_t flags = ENTRYLO_C(3) | ENTRYLO_D | ENTRYLO_V | ENTRYLO_G;
    tlb_write(RT_TLB_INDEX, USER_WINDOW, ENTRYLO_PFN(0x000000) | flags,
              ENTRYLO_PFN(0x100000) | flags, PAGEMASK_1M);
}
