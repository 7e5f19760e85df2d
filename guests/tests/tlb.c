/*
 * tlb.c - the joint TLB (PRA chapter 4 "Virtual Memory", 6.2 TLB exceptions, 9.x
 * TLB registers; MIPS32 Vol. II TLBWI, TLBWR, TLBR, TLBP).
 *
 * Each TLB entry maps a pair of pages: virtual VPN2 (EntryHi 31:13, the page-pair
 * number) with the even page through EntryLo0 and the odd page through EntryLo1;
 * PageMask widens both pages.  An entry matches if its VPN2 matches (under the mask)
 * and either its G bit is set or its ASID equals EntryHi.ASID.  Then:
 *   - no entry matches: TLB Refill, at EBase + 0x000 (only while Status.EXL = 0);
 *   - the matching page has V = 0: TLB Invalid, at the general vector;
 *   - a store to a page with D = 0: TLB Modified (Mod), at the general vector;
 * all with ExcCode TLBL (loads) / TLBS (stores) / Mod, BadVAddr = the address,
 * Context.BadVPN2 and EntryHi.VPN2 = its page-pair number, EntryHi.ASID unchanged.
 *
 * QEMU's 24Kf has 16 TLB entries and discovm 64: only entries 0..14 are used
 * (15 is the runtime's user window), and TLBWR's choice is never printed.
 */
#include "rt.h"

/* Physical frames: 4 x 16 KiB, 32 KiB aligned so that 16 KiB page pairs fit. */
static volatile uint32_t frames[4][4096] __attribute__((aligned(32768)));
#define FRAME_PA(i) KSEG_TO_PHYS(frames[i])

#define FLAGS_RW  (ENTRYLO_C(3) | ENTRYLO_D | ENTRYLO_V)
#define FLAGS_RO  (ENTRYLO_C(3) | ENTRYLO_V)

/* ---- the exception handler ---------------------------------------------------- */
enum { MODE_OFF, MODE_FILL, MODE_SKIP, MODE_RESUME_AT_EPC };
static volatile int mode;
static volatile struct {
    int n, vector;
    uint32_t cause, code, epc, badvaddr, context, entryhi;
} rec;

/* What the refill handler maps: the faulting page pair onto frames 0 and 1. */
#define FILL_INDEX 2

void exc_handler(struct frame *f, int vector)
{
    uint32_t code = CAUSE_EXCCODE(f->cause);
    if (mode == MODE_OFF || code < EXC_MOD || code > EXC_TLBS) {
        exc_default(f, vector);
        return;
    }
    rec.n++;
    rec.vector = vector;
    rec.cause = f->cause;
    rec.code = code;
    rec.epc = f->epc;
    rec.badvaddr = f->badvaddr;
    rec.context = mfc0(C0_CONTEXT);
    rec.entryhi = mfc0(C0_ENTRYHI);
    if (mode == MODE_FILL && vector == VEC_REFILL) {
        /* The classic refill handler: the CPU has already put the missing page
         * pair's VPN2 (and the current ASID) in EntryHi; supply EntryLo0/1 and
         * write the entry.  Returning re-executes the access. */
        mtc0(C0_ENTRYLO0, ENTRYLO_PFN(FRAME_PA(0)) | FLAGS_RW);
        mtc0(C0_ENTRYLO1, ENTRYLO_PFN(FRAME_PA(1)) | FLAGS_RW);
        mtc0(C0_PAGEMASK, PAGEMASK_4K);
        mtc0(C0_INDEX, FILL_INDEX);
        tlbwi();
        return;
    }
    if (mode == MODE_RESUME_AT_EPC)
        return;                 /* EPC was set by the test */
    exc_skip(f);
}

static void rec_clear(void)
{
    rec.n = 0;
    rec.vector = -1;
    rec.code = rec.epc = rec.badvaddr = rec.context = rec.entryhi = 0xffffffff;
}

/* One load / store at va; *pc = its address.  A skipped load returns 0x5eed. */
static uint32_t __attribute__((noinline)) load(uint32_t va, uint32_t *pc)
{
    uint32_t v = 0x5eed, p;
    __asm__ __volatile__(".set push\n\t.set noreorder\n\t" ASM_LA("%1", "1f")
                         "1:\tlw %0, 0(%2)\n\t.set pop"
                         : "+r"(v), "=&r"(p) : "r"(va) : "memory");
    *pc = p;
    return v;
}

static void __attribute__((noinline)) store(uint32_t va, uint32_t v, uint32_t *pc)
{
    uint32_t p;
    __asm__ __volatile__(".set push\n\t.set noreorder\n\t" ASM_LA("%0", "1f")
                         "1:\tsw %1, 0(%2)\n\t.set pop"
                         : "=&r"(p) : "r"(v), "r"(va) : "memory");
    *pc = p;
}

static void set_asid(uint32_t asid)
{
    mtc0(C0_ENTRYHI, asid);
}

/* Checks one recorded TLB exception. */
static void check_tlb_exc(const char *name, int vector, uint32_t code, uint32_t pc,
                          uint32_t va, uint32_t asid)
{
    printf("-- %s\n", name);
    check("  exceptions taken", rec.n, 1);
    check("  vector", rec.vector, vector);
    check("  ExcCode", rec.code, code);
    check_addr("  EPC = the access", rec.epc, pc);
    check("  BadVAddr", rec.badvaddr, va);
    check("  Context.BadVPN2", rec.context & 0x007ffff0, (va >> 13) << 4);
    check("  EntryHi = VPN2 | ASID", rec.entryhi, (va & 0xffffe000) | asid);
}

/* ---- the tests ------------------------------------------------------------------ */

static void read_write_probe(void)
{
    section("tlbwi/tlbr/tlbp");
    uint32_t hi = 0x12344000 | 0x05;
    uint32_t lo0 = ENTRYLO_PFN(0x01234000) | ENTRYLO_C(3) | ENTRYLO_D | ENTRYLO_V;
    uint32_t lo1 = ENTRYLO_PFN(0x05678000) | ENTRYLO_C(2) | ENTRYLO_V;
    tlb_write(3, hi, lo0, lo1, PAGEMASK_4K);
    mtc0(C0_ENTRYHI, 0);
    mtc0(C0_ENTRYLO0, 0);
    mtc0(C0_ENTRYLO1, 0);
    mtc0(C0_PAGEMASK, PAGEMASK_16M);
    mtc0(C0_INDEX, 3);
    tlbr();
    check("tlbr EntryHi", mfc0(C0_ENTRYHI), hi);
    check("tlbr EntryLo0", mfc0(C0_ENTRYLO0), lo0);
    check("tlbr EntryLo1", mfc0(C0_ENTRYLO1), lo1);
    check("tlbr PageMask", mfc0(C0_PAGEMASK), PAGEMASK_4K);

    /* The entry has one G bit: EntryLo0.G AND EntryLo1.G (Vol. II, TLBWI); TLBR
     * returns it in both. */
    tlb_write(5, 0x12346000 | 0x07, lo0 | ENTRYLO_G, lo1, PAGEMASK_4K);
    mtc0(C0_INDEX, 5);
    tlbr();
    check("G = G0 & G1 = 0: EntryLo0", mfc0(C0_ENTRYLO0), lo0);
    check("G = G0 & G1 = 0: EntryLo1", mfc0(C0_ENTRYLO1), lo1);
    tlb_write(5, 0x12346000 | 0x07, lo0 | ENTRYLO_G, lo1 | ENTRYLO_G, PAGEMASK_4K);
    mtc0(C0_INDEX, 5);
    tlbr();
    check("G = 1: EntryLo0", mfc0(C0_ENTRYLO0), lo0 | ENTRYLO_G);
    check("G = 1: EntryLo1", mfc0(C0_ENTRYLO1), lo1 | ENTRYLO_G);

    /* 16 KiB pages: the pair covers 32 KiB */
    uint32_t lo16 = ENTRYLO_PFN(0x00ff0000) | FLAGS_RW;
    tlb_write(4, 0x20008000, lo16, lo16 + ENTRYLO_PFN(0x4000), PAGEMASK_16K);
    mtc0(C0_INDEX, 4);
    mtc0(C0_PAGEMASK, 0);
    tlbr();
    check("tlbr 16K EntryHi", mfc0(C0_ENTRYHI), 0x20008000);
    check("tlbr 16K PageMask", mfc0(C0_PAGEMASK), PAGEMASK_16K);
    check("tlbr 16K EntryLo1", mfc0(C0_ENTRYLO1), lo16 + ENTRYLO_PFN(0x4000));

    /* TLBP: Index of the matching entry, or Index.P = 1 (the rest UNDEFINED) */
    mtc0(C0_ENTRYHI, hi);
    mtc0(C0_INDEX, 0);
    tlbp();
    check("tlbp finds entry 3", mfc0(C0_INDEX), 3);
    mtc0(C0_ENTRYHI, 0x12344000 | 0x06);
    tlbp();
    check("tlbp, other ASID: P", mfc0(C0_INDEX) & INDEX_P, INDEX_P);
    mtc0(C0_ENTRYHI, 0x12346000 | 0x06);
    tlbp();
    check("tlbp, other ASID, global entry 5", mfc0(C0_INDEX), 5);
    mtc0(C0_ENTRYHI, 0x2000e000);         /* inside the 16K pair at 0x20008000 */
    tlbp();
    check("tlbp under PageMask finds entry 4", mfc0(C0_INDEX), 4);
    mtc0(C0_ENTRYHI, 0x20010000);
    tlbp();
    check("tlbp just past it: P", mfc0(C0_INDEX) & INDEX_P, INDEX_P);
    set_asid(0);
    tlb_invalidate(3);
    tlb_invalidate(4);
    tlb_invalidate(5);
}

static void mapped_pages(void)
{
    uint32_t pc;

    section("mapped 4 KiB pages (even/odd)");
    frames[0][0] = 0x11111111;
    frames[0][1023] = 0x11112222;
    frames[1][0] = 0x22222222;
    tlb_write(0, 0x10000000, ENTRYLO_PFN(FRAME_PA(0)) | FLAGS_RW,
              ENTRYLO_PFN(FRAME_PA(1)) | FLAGS_RW, PAGEMASK_4K);
    check("load even page", load(0x10000000, &pc), 0x11111111);
    check("load even page +0xffc", load(0x10000ffc, &pc), 0x11112222);
    check("load odd page", load(0x10001000, &pc), 0x22222222);
    store(0x10001004, 0x33333333, &pc);
    check("store odd page, seen in kseg0", frames[1][1], 0x33333333);
    store(0x10000008, 0x44444444, &pc);
    check("store even page, seen in kseg0", frames[0][2], 0x44444444);
    /* a second mapping of the same frame (an alias) */
    tlb_write(1, 0x10100000, ENTRYLO_PFN(FRAME_PA(1)) | FLAGS_RW, 0, PAGEMASK_4K);
    check("alias of the odd page", load(0x10100004, &pc), 0x33333333);
    tlb_invalidate(0);
    tlb_invalidate(1);

    section("mapped 16 KiB pages");
    frames[0][0xffc / 4] = 0xaaaa0ffc;
    frames[0][0x3ffc / 4] = 0xaaaa3ffc;
    frames[2][0] = 0xbbbb0000;
    frames[2][0x3ffc / 4] = 0xbbbb3ffc;
    tlb_write(1, 0x20000000, ENTRYLO_PFN(FRAME_PA(0)) | FLAGS_RW,
              ENTRYLO_PFN(FRAME_PA(2)) | FLAGS_RW, PAGEMASK_16K);
    check("16K even page +0xffc", load(0x20000ffc, &pc), 0xaaaa0ffc);
    check("16K even page +0x3ffc", load(0x20003ffc, &pc), 0xaaaa3ffc);
    check("16K odd page +0", load(0x20004000, &pc), 0xbbbb0000);
    check("16K odd page +0x3ffc", load(0x20007ffc, &pc), 0xbbbb3ffc);
    store(0x20006000, 0xcccc2000, &pc);
    check("16K odd page store", frames[2][0x2000 / 4], 0xcccc2000);
    tlb_invalidate(1);
}

static void refill(void)
{
    uint32_t pc, v;

    section("TLB refill");
    mtc0(C0_CONTEXT, 0x80800000);         /* PTEBase: any value */
    frames[0][0] = 0x0f0f0f0f;
    frames[1][2] = 0x1e1e1e1e;
    rec_clear();
    mode = MODE_FILL;
    v = load(0x30000000, &pc);
    mode = MODE_OFF;
    check_tlb_exc("load from an unmapped page", VEC_REFILL, EXC_TLBL, pc, 0x30000000, 0);
    check("  Context.PTEBase kept", rec.context & 0xff800000, 0x80800000);
    check("  load completes after the refill", v, 0x0f0f0f0f);

    rec_clear();
    mode = MODE_FILL;
    v = load(0x30001008, &pc);            /* same pair, odd page: no new miss */
    mode = MODE_OFF;
    check("odd page of the refilled pair: no exception", rec.n, 0);
    check("  value", v, 0x1e1e1e1e);

    set_asid(0x42);
    rec_clear();
    mode = MODE_FILL;
    store(0x30403008, 0x600df00d, &pc);   /* odd page of another pair */
    mode = MODE_OFF;
    check_tlb_exc("store to an unmapped page", VEC_REFILL, EXC_TLBS, pc, 0x30403008, 0x42);
    check("  store completes after the refill", frames[1][2], 0x600df00d);
    set_asid(0);
    tlb_invalidate(FILL_INDEX);

    /* With Status.EXL = 1 a TLB miss goes to the general vector (PRA 6.2.1, table
     * 6.4) and EPC, Cause.BD are not updated (PRA 6.2, "General Exception
     * Processing": "if StatusEXL = 0 then ... EPC ..."). Here EPC is set beforehand
     * to where the handler's ERET should go. */
    uint32_t resume;
    rec_clear();
    mode = MODE_RESUME_AT_EPC;
    v = 0x5eed;
    __asm__ __volatile__(
        ".set push\n\t.set noreorder\n\t"
        ASM_LA("%1", "2f")
        "mtc0 %1, $14\n\t"                /* EPC = 2f */
        "mfc0 $8, $12\n\t"
        "ori $8, $8, 2\n\t"               /* Status.EXL = 1 */
        "mtc0 $8, $12\n\t"
        "ehb\n\t"
        "lw %0, 0(%2)\n\t"                /* TLB miss with EXL = 1 */
        "li %0, 0xbad\n"                  /* skipped: ERET goes to 2f */
        "2:\t.set pop"
        : "+r"(v), "=&r"(resume) : "r"(0x30000000) : "$8", "memory");
    mode = MODE_OFF;
    printf("-- miss with EXL = 1\n");
    check("  exceptions taken", rec.n, 1);
    check("  general vector", rec.vector, VEC_GENERAL);
    check("  ExcCode", rec.code, EXC_TLBL);
    check_addr("  EPC not updated", rec.epc, resume);
    check("  BadVAddr", rec.badvaddr, 0x30000000);
    check("  ERET to EPC, EXL cleared", v == 0x5eed && !(mfc0(C0_STATUS) & ST_EXL), 1);
}

static void invalid_modified(void)
{
    uint32_t pc, v;

    section("TLB invalid and modified");
    frames[0][0] = 0x01010101;
    /* even page valid and read-only (D = 0), odd page invalid (V = 0) */
    tlb_write(6, 0x50000000, ENTRYLO_PFN(FRAME_PA(0)) | FLAGS_RO,
              ENTRYLO_PFN(FRAME_PA(1)) | ENTRYLO_D, PAGEMASK_4K);
    rec_clear();
    mode = MODE_SKIP;
    v = load(0x50001010, &pc);
    check_tlb_exc("load from an invalid page", VEC_GENERAL, EXC_TLBL, pc, 0x50001010, 0);
    check("  rt unchanged", v, 0x5eed);
    rec_clear();
    store(0x50001ffc, 1, &pc);
    check_tlb_exc("store to an invalid page", VEC_GENERAL, EXC_TLBS, pc, 0x50001ffc, 0);
    rec_clear();
    v = load(0x50000000, &pc);
    check("load from a clean (D = 0) page: no exception", rec.n, 0);
    check("  value", v, 0x01010101);
    rec_clear();
    store(0x50000000, 0xdeadbeef, &pc);
    check_tlb_exc("store to a clean page", VEC_GENERAL, EXC_MOD, pc, 0x50000000, 0);
    check("  memory unchanged", frames[0][0], 0x01010101);
    mode = MODE_OFF;
    tlb_invalidate(6);
}

static void asids(void)
{
    uint32_t pc, v;

    section("ASIDs and the global bit");
    frames[3][0] = 0x000a51d5;
    tlb_write(7, 0x60000000 | 5, ENTRYLO_PFN(FRAME_PA(3)) | FLAGS_RW, 0, PAGEMASK_4K);
    set_asid(5);
    rec_clear();
    mode = MODE_SKIP;
    v = load(0x60000000, &pc);
    check("same ASID: hit", rec.n == 0 && v == 0x000a51d5, 1);
    set_asid(6);
    rec_clear();
    v = load(0x60000000, &pc);
    check_tlb_exc("other ASID: refill", VEC_REFILL, EXC_TLBL, pc, 0x60000000, 6);
    /* the same entry, global: the ASID no longer matters */
    tlb_write(7, 0x60000000 | 5, ENTRYLO_PFN(FRAME_PA(3)) | FLAGS_RW | ENTRYLO_G,
              ENTRYLO_G, PAGEMASK_4K);
    rec_clear();
    v = load(0x60000000, &pc);
    check("global entry, other ASID: hit", rec.n == 0 && v == 0x000a51d5, 1);
    mtc0(C0_ENTRYHI, 0x60000000 | 0x99);
    tlbp();
    check("tlbp finds the global entry from ASID 0x99", mfc0(C0_INDEX), 7);
    mode = MODE_OFF;
    set_asid(0);
    tlb_invalidate(7);
}

static void random_write(void)
{
    uint32_t pc;

    section("tlbwr");
    /* TLBWR writes entry Random, somewhere in [Wired, last]: which one is not
     * printed, only that TLBP finds the entry there. */
    mtc0(C0_WIRED, 8);
    frames[3][1] = 0x7777abcd;
    mtc0(C0_ENTRYHI, 0x70000000);
    mtc0(C0_ENTRYLO0, ENTRYLO_PFN(FRAME_PA(3)) | FLAGS_RW);
    mtc0(C0_ENTRYLO1, 0);
    mtc0(C0_PAGEMASK, PAGEMASK_4K);
    __asm__ __volatile__("tlbwr\n\tehb" ::: "memory");
    tlbp();
    uint32_t index = mfc0(C0_INDEX);
    check("tlbwr entry found by tlbp", index & INDEX_P, 0);
    check("  at an index >= Wired", index >= 8, 1);
    check("  and it maps", load(0x70000004, &pc), 0x7777abcd);
    tlb_invalidate(index & 0x3f);
    mtc0(C0_WIRED, 0);
    user_map_window();                  /* in case TLBWR replaced entry 15 */
}

int main(void)
{
    read_write_probe();
    mapped_pages();
    refill();
    invalid_modified();
    asids();
    random_write();
    return check_summary();
}
