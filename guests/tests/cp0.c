/*
 * cp0.c - the System Control Coprocessor's registers (PRA chapter 9): which bits
 * software can write and read back, Count, EBase, and RDHWR (MIPS32 Vol. II, RDHWR;
 * PRA 9.8 HWREna, 9.6 UserLocal).
 *
 * Nothing implementation-specific is printed (PRId, Config, TLB size, Random,
 * Count values): only properties the architecture fixes.
 */
#include "rt.h"

extern char _vectors[];
extern char u_rdhwr_cpunum[], u_rdhwr_cc[], u_rdhwr_ul[];

static char other_vectors[4096] __attribute__((aligned(4096)));

static void status_cause_epc(void)
{
    uint32_t saved = mfc0(C0_STATUS);

    section("Status");
    /* IM7..0 are read/write (PRA 9.15); with IE = 0 nothing is delivered */
    mtc0(C0_STATUS, (saved & ~ST_IM_MASK & ~ST_IE) | 0xa500);
    check("IM round trip", mfc0(C0_STATUS) & ST_IM_MASK, 0xa500);
    mtc0(C0_STATUS, (saved & ~ST_IM_MASK & ~ST_IE) | 0x5a00);
    check("IM round trip 2", mfc0(C0_STATUS) & ST_IM_MASK, 0x5a00);
    mtc0(C0_STATUS, (saved & ~ST_IM_MASK) | ST_IE);           /* IE with IM = 0 */
    check("IE round trip", mfc0(C0_STATUS) & (ST_IE | ST_IM_MASK), ST_IE);
    mtc0(C0_STATUS, saved | ST_BEV);
    check("BEV round trip", mfc0(C0_STATUS) & ST_BEV, ST_BEV);
    mtc0(C0_STATUS, saved);
    check("kernel mode, EXL=ERL=0 in main", mfc0(C0_STATUS) & 0x1f, 0);

    section("Cause");
    /* of the interrupt bits only IP1..0 (software interrupts) are writable */
    mtc0(C0_CAUSE, CAUSE_IP(0) | CAUSE_IP(1));
    check("IP1..0 round trip", mfc0(C0_CAUSE) & (CAUSE_IP(0) | CAUSE_IP(1)), 0x300);
    mtc0(C0_CAUSE, CAUSE_IP(1));
    check("IP1 alone", mfc0(C0_CAUSE) & 0x300, 0x200);
    mtc0(C0_CAUSE, CAUSE_IV);
    check("IV round trip", mfc0(C0_CAUSE) & (CAUSE_IV | 0x300), CAUSE_IV);
    mtc0(C0_CAUSE, 0);
    check("cleared", mfc0(C0_CAUSE) & (CAUSE_IV | 0x300 | CAUSE_DC), 0);
    /* ExcCode and BD are read-only: the last exception (a SYSCALL) stays */
    uint32_t pc, d = 0;
    TRY(pc, "syscall", [d] "+r"(d) :);
    (void)pc;
    mtc0(C0_CAUSE, 0x7c);                                     /* try ExcCode = 31 */
    check("ExcCode is read only", CAUSE_EXCCODE(mfc0(C0_CAUSE)), EXC_SYS);

    section("EPC");
    mtc0(C0_EPC, 0x80123454);
    check("EPC round trip", mfc0(C0_EPC), 0x80123454);
    mtc0(C0_EPC, 0x00400000);
    check("EPC round trip 2", mfc0(C0_EPC), 0x00400000);
}

static void ebase(void)
{
    section("EBase");
    uint32_t eb = mfc0(C0_EBASE);
    check_addr("EBase = our vectors", eb & 0xfffff000, (uint32_t)_vectors);
    check("bits 31:30 = 10", eb >> 30, 2);
    check("CPUNum of CPU 0", eb & 0x3ff, 0);
    /* Changing EBase requires Status.BEV = 1 (PRA 9.23) */
    uint32_t st = mfc0(C0_STATUS);
    mtc0(C0_STATUS, st | ST_BEV);
    mtc0(C0_EBASE, (uint32_t)other_vectors);
    check_addr("EBase write", mfc0(C0_EBASE) & 0xfffff000, (uint32_t)other_vectors);
    mtc0(C0_EBASE, KSEG_TO_PHYS(other_vectors));             /* bits 31:30 are fixed */
    check_addr("EBase bits 31:30 stay 10", mfc0(C0_EBASE), (uint32_t)other_vectors);
    mtc0(C0_EBASE, (uint32_t)_vectors | 0x3ff);               /* CPUNum is read only */
    check_addr("EBase restored, CPUNum read only", mfc0(C0_EBASE), (uint32_t)_vectors);
    mtc0(C0_STATUS, st);
}

static void tlb_registers(void)
{
    section("Wired/Random");
    mtc0(C0_WIRED, 3);
    check("Wired round trip", mfc0(C0_WIRED), 3);
    /* Random counts down from the last entry to Wired (PRA 9.3): only the lower
     * bound is the same everywhere */
    int below = 0;
    for (int i = 0; i < 50; i++)
        below |= mfc0(C0_RANDOM) < 3;
    check("Random >= Wired", below, 0);
    mtc0(C0_WIRED, 0);
    check("Wired cleared", mfc0(C0_WIRED), 0);

    section("EntryHi/EntryLo/PageMask/Context");
    uint32_t saved_hi = mfc0(C0_ENTRYHI);
    /* EntryHi: VPN2 in 31:13, ASID in 7:0, bits 12:8 read as zero (PRA 9.12) */
    mtc0(C0_ENTRYHI, 0x12345678);
    check("EntryHi 0x12345678", mfc0(C0_ENTRYHI), 0x12344078);
    mtc0(C0_ENTRYHI, 0xffffe0ff);
    check("EntryHi 0xffffe0ff", mfc0(C0_ENTRYHI), 0xffffe0ff);
    mtc0(C0_ENTRYHI, saved_hi);
    /* EntryLo: PFN 29:6, C 5:3, D, V, G; bits 31:30 are Fill: read as zero (PRA 9.4).
     * Only PFNs below 4 GiB are used: wider physical addresses are optional. */
    mtc0(C0_ENTRYLO0, 0x03ffffff);
    check("EntryLo0 0x03ffffff", mfc0(C0_ENTRYLO0), 0x03ffffff);
    mtc0(C0_ENTRYLO1, 0x01234567);
    check("EntryLo1 0x01234567", mfc0(C0_ENTRYLO1), 0x01234567);
    mtc0(C0_ENTRYLO0, 0xc0000017);
    check("EntryLo0 Fill bits read 0", mfc0(C0_ENTRYLO0), 0x00000017);
    /* PageMask: Mask in 28:13, one bit pair per page size (PRA 9.5) */
    mtc0(C0_PAGEMASK, PAGEMASK_16K);
    check("PageMask 16K", mfc0(C0_PAGEMASK), PAGEMASK_16K);
    mtc0(C0_PAGEMASK, PAGEMASK_1M);
    check("PageMask 1M", mfc0(C0_PAGEMASK), PAGEMASK_1M);
    mtc0(C0_PAGEMASK, PAGEMASK_16M);
    check("PageMask 16M", mfc0(C0_PAGEMASK), PAGEMASK_16M);
    mtc0(C0_PAGEMASK, 0x00007fff);
    check("PageMask low bits read 0", mfc0(C0_PAGEMASK), PAGEMASK_16K);
    mtc0(C0_PAGEMASK, 0);
    /* Context: PTEBase 31:23 writable, BadVPN2 22:4 read only, 3:0 zero (PRA 9.7) */
    mtc0(C0_CONTEXT, 0xffffffff);
    check("Context PTEBase", mfc0(C0_CONTEXT) & 0xff80000f, 0xff800000);
    mtc0(C0_CONTEXT, 0x12345678);
    check("Context PTEBase 2", mfc0(C0_CONTEXT) & 0xff80000f, 0x12000000);
    mtc0(C0_CONTEXT, 0);
}

static void count_compare(void)
{
    section("Count/Compare");
    uint32_t c1 = mfc0(C0_COUNT);
    for (volatile int i = 0; i < 1000; i++)
        ;
    uint32_t c2 = mfc0(C0_COUNT);
    check("Count increments", c2 != c1, 1);
    /* Cause.DC stops Count (PRA 9.16, Release 2) */
    mtc0(C0_CAUSE, CAUSE_DC);
    mtc0(C0_COUNT, 0x12345678);
    for (volatile int i = 0; i < 1000; i++)
        ;
    check("Count write with DC=1", mfc0(C0_COUNT), 0x12345678);
    check("Count stopped", mfc0(C0_COUNT), 0x12345678);
    mtc0(C0_CAUSE, 0);
    for (volatile int i = 0; i < 1000; i++)
        ;
    check("Count runs again", mfc0(C0_COUNT) != 0x12345678, 1);
    mtc0(C0_COMPARE, 0x87654321);
    check("Compare round trip", mfc0(C0_COMPARE), 0x87654321);
}

static void hwrena_rdhwr(void)
{
    uint32_t v;

    section("HWREna/RDHWR");
    /* HWREna bits 3:0 enable RDHWR registers 0-3 in user mode (PRA 9.8) */
    mtc0(C0_HWRENA, 0xf);
    check("HWREna 0xf", mfc0(C0_HWRENA) & 0xf, 0xf);
    mtc0(C0_HWRENA, 0);
    check("HWREna 0", mfc0(C0_HWRENA), 0);

    /* In kernel mode RDHWR works whatever HWREna says */
    __asm__ __volatile__("rdhwr %0, $0" : "=r"(v));
    check("rdhwr $0 (CPUNum) in kernel mode", v, 0);
    uint32_t c1 = mfc0(C0_COUNT);
    __asm__ __volatile__("rdhwr %0, $2" : "=r"(v));
    uint32_t c2 = mfc0(C0_COUNT);
    /* CC reads the same counter as CP0 Count (Vol. II, RDHWR) */
    check("rdhwr $2 (CC) between two Count reads", v - c1 <= c2 - c1, 1);
    /* UserLocal (CP0 4/2) is what RDHWR $29 reads: the thread pointer of Linux's
     * TLS.  QEMU DIFFERENCE: QEMU's 24Kf model has no UserLocal (Config3.ULRI = 0;
     * it is optional in Release 2): it ignores the MTC0, reads 0 and makes user-mode
     * RDHWR $29 a reserved instruction.  discovm implements UserLocal, and the lines
     * marked [qemu differs] are listed in tests/test_guests.py. */
    mtc0(C0_USERLOCAL, 0x12345678);
    __asm__ __volatile__("rdhwr %0, $29" : "=r"(v));
    check("rdhwr $29 (UserLocal) in kernel mode [qemu differs]", v, 0x12345678);

    /* In user mode only the registers enabled in HWREna; others are RI */
    mtc0(C0_HWRENA, 0);
    exc_arm();
    v = user_run(ST_KSU_USER, USER_VA(u_rdhwr_cc), 0, 0);
    exc_disarm();
    check_exc("user rdhwr $2, HWREna=0", EXC_RI, USER_VA(u_rdhwr_cc) + 4, 0);
    check("  rt unchanged", v, 0x5eed);
    exc_arm();
    v = user_run(ST_KSU_USER, USER_VA(u_rdhwr_ul), 0, 0);
    exc_disarm();
    check_exc("user rdhwr $29, HWREna=0", EXC_RI, USER_VA(u_rdhwr_ul) + 4, 0);
    exc_arm();
    v = user_run(ST_KSU_USER, USER_VA(u_rdhwr_cpunum), 0, 0);
    exc_disarm();
    check_exc("user rdhwr $0, HWREna=0", EXC_RI, USER_VA(u_rdhwr_cpunum) + 4, 0);

    mtc0(C0_HWRENA, 0x1 | 0x4 | 0x20000000);    /* CPUNum, CC, UL */
    exc_arm();
    v = user_run(ST_KSU_USER, USER_VA(u_rdhwr_cpunum), 0, 0);
    exc_disarm();
    check_no_exc("user rdhwr $0, HWREna.0=1");
    check("  CPUNum", v, 0);
    exc_arm();
    v = user_run(ST_KSU_USER, USER_VA(u_rdhwr_cc), 0, 0);
    exc_disarm();
    check_no_exc("user rdhwr $2, HWREna.2=1");
    exc_arm();
    v = user_run(ST_KSU_USER, USER_VA(u_rdhwr_ul), 0, 0);
    exc_disarm();
    check_no_exc("user rdhwr $29, HWREna.29=1 [qemu differs]");
    check("user rdhwr $29 value [qemu differs]", v, 0x12345678);
    mtc0(C0_HWRENA, 0);
}

int main(void)
{
    status_cause_epc();
    ebase();
    tlb_registers();
    count_compare();
    hwrena_rdhwr();
    return check_summary();
}
