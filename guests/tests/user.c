/*
 * user.c - user and supervisor mode (PRA chapter 3 "Modes of Operation", chapter 4
 * "Virtual Memory" for what each mode may address, 6.2 for the exceptions).
 *
 *   - ERET with Status.KSU = 10 (user) or 01 (supervisor) and EXL = 1 enters that
 *     mode; SYSCALL comes back to kernel mode (rt/user.S explains the mechanics).
 *   - User mode may address kuseg (0x00000000-0x7FFFFFFF) only; supervisor mode also
 *     suseg/sseg (0xC0000000-0xDFFFFFFF, mapped).  Anything else is an Address Error
 *     with BadVAddr = the address (PRA 4.3, 4.4).
 *   - CP0 instructions outside kernel mode need Status.CU0 = 1, otherwise
 *     Coprocessor Unusable with Cause.CE = 0 (PRA 6.2 "Coprocessor Unusable").
 */
#include "rt.h"

extern char u_add1[], u_sum_on_stack[], u_load[], u_store[], u_break[], u_exit[];
extern char u_mfc0[], u_mtc0[], u_eret[], u_tlbp[], u_cache[], u_di[];

static volatile uint32_t data[4] __attribute__((aligned(16)));

#define RUN(mode, fn, a0, a1) user_run(mode, USER_VA(fn), (a0), (a1))

/* An instruction fetch from an address the mode may not use faults with EPC =
 * BadVAddr = that address: skipping one instruction would fault again, so such a
 * fault (when armed) continues at u_exit instead, which returns to the kernel. */
void exc_handler(struct frame *f, int vector)
{
    if (CAUSE_EXCCODE(f->cause) == EXC_ADEL && f->epc == f->badvaddr &&
        (f->status & ST_KSU_MASK)) {
        exc_default(f, vector);           /* records it (if armed) and skips */
        f->epc = USER_VA(u_exit);
        return;
    }
    exc_default(f, vector);
}

static void enter_and_leave(void)
{
    uint32_t v;

    section("entering user mode and coming back");
    v = RUN(ST_KSU_USER, u_add1, 41, 0);
    check("user code ran, result via syscall", v, 42);
    check("syscall from user mode: ExcCode", CAUSE_EXCCODE(user_exit.cause), EXC_SYS);
    check_addr("syscall EPC", user_exit.epc, USER_VA(u_add1) + 4);
    check("Status at the syscall: KSU=user, EXL=1", user_exit.status & 0x1f,
          ST_KSU_USER | ST_EXL);
    check("back in kernel mode, EXL=0", mfc0(C0_STATUS) & 0x1f, 0);
    v = RUN(ST_KSU_USER, u_sum_on_stack, 10, 0);
    check("user loop with its own stack", v, 55);

    data[0] = 0x12345678;
    v = RUN(ST_KSU_USER, u_load, USER_VA(data), 0);
    check("user load from kuseg", v, 0x12345678);
    RUN(ST_KSU_USER, u_store, USER_VA(&data[1]), 0x87654321);
    check("user store to kuseg", data[1], 0x87654321);

    v = RUN(ST_KSU_SUPER, u_add1, 1, 0);
    check("supervisor code ran", v, 2);
    check("Status at the syscall: KSU=supervisor, EXL=1", user_exit.status & 0x1f,
          ST_KSU_SUPER | ST_EXL);
}

static void address_errors(void)
{
    static const struct { const char *name; uint32_t addr; } bad[] = {
        { "user load from kseg0", 0x80100000 },
        { "user load from kseg1", 0xa0000000 },
        { "user load from sseg/kseg2", 0xc0000000 },
        { "user load from kseg3", 0xfffffffc },
        { "user load from 0x80000000", 0x80000000 },
    };
    uint32_t v;

    section("user mode address errors");
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        exc_arm();
        v = RUN(ST_KSU_USER, u_load, bad[i].addr, 0);
        exc_disarm();
        check_exc(bad[i].name, EXC_ADEL, USER_VA(u_load) + 4, 0);
        check("  BadVAddr", exc_last.badvaddr, bad[i].addr);
        check("  rt unchanged", v, 0x5eed);
    }
    exc_arm();
    RUN(ST_KSU_USER, u_store, 0xa0001000, 1);
    exc_disarm();
    check_exc("user store to kseg1", EXC_ADES, USER_VA(u_store), 0);
    check("  BadVAddr", exc_last.badvaddr, 0xa0001000);
    exc_arm();
    v = RUN(ST_KSU_USER, u_load, 0x7ffffffd, 0);
    exc_disarm();
    check_exc("user misaligned load", EXC_ADEL, USER_VA(u_load) + 4, 0);
    check("  BadVAddr", exc_last.badvaddr, 0x7ffffffd);
    /* jumping (ERET) to kernel code from user mode: the fetch faults */
    exc_arm();
    user_run(ST_KSU_USER, (uint32_t)u_add1, 0, 0);
    exc_disarm();
    check_exc("user fetch from kseg0", EXC_ADEL, (uint32_t)u_add1, 0);
    check_addr("  BadVAddr", exc_last.badvaddr, (uint32_t)u_add1);

    section("supervisor mode addressing");
    exc_arm();
    v = RUN(ST_KSU_SUPER, u_load, 0x80100000, 0);
    exc_disarm();
    check_exc("supervisor load from kseg0", EXC_ADEL, USER_VA(u_load) + 4, 0);
    check("  BadVAddr", exc_last.badvaddr, 0x80100000);
    /* sseg is mapped: with no TLB entry, a refill (TLBL at vector 0) */
    exc_arm();
    v = RUN(ST_KSU_SUPER, u_load, 0xc0001000, 0);
    exc_disarm();
    check_exc("supervisor load from sseg (unmapped)", EXC_TLBL, USER_VA(u_load) + 4, 0);
    check("  refill vector", exc_last.vector, VEC_REFILL);
    check("  BadVAddr", exc_last.badvaddr, 0xc0001000);
    exc_arm();
    v = RUN(ST_KSU_SUPER, u_load, 0xe0000000, 0);
    exc_disarm();
    check_exc("supervisor load from kseg3", EXC_ADEL, USER_VA(u_load) + 4, 0);
}

static void privileged(void)
{
    static const struct { const char *name; char *fn; } insns[] = {
        { "user mfc0", u_mfc0 },
        { "user mtc0", u_mtc0 },
        { "user eret", u_eret },
        { "user tlbp", u_tlbp },
        { "user cache", u_cache },
        { "user di", u_di },
    };
    uint32_t v;

    section("CP0 instructions outside kernel mode (CpU, CE=0)");
    for (unsigned i = 0; i < sizeof insns / sizeof insns[0]; i++) {
        exc_arm();
        v = RUN(ST_KSU_USER, insns[i].fn, USER_VA(data), 0);
        exc_disarm();
        check_exc(insns[i].name, EXC_CPU, USER_VA(insns[i].fn) + 4, 0);
        check("  Cause.CE", CAUSE_CE(exc_last.cause), 0);
        check("  rt unchanged", v, 0x5eed);
    }
    exc_arm();
    v = RUN(ST_KSU_SUPER, u_mfc0, 0, 0);
    exc_disarm();
    check_exc("supervisor mfc0", EXC_CPU, USER_VA(u_mfc0) + 4, 0);

    /* With Status.CU0 = 1 user mode may use CP0 (PRA 9.15, CU0) */
    mtc0(C0_STATUS, mfc0(C0_STATUS) | ST_CU0);
    exc_arm();
    v = RUN(ST_KSU_USER, u_mfc0, 0, 0);
    exc_disarm();
    mtc0(C0_STATUS, mfc0(C0_STATUS) & ~ST_CU0);
    check_no_exc("user mfc0 Status with CU0=1");
    check("  reads KSU=user, CU0=1", v & (ST_CU0 | 0x1f), ST_CU0 | ST_KSU_USER);

    section("other exceptions from user mode");
    exc_arm();
    v = RUN(ST_KSU_USER, u_break, 0, 0);
    exc_disarm();
    check_exc("user break", EXC_BP, USER_VA(u_break), 0);
    check("  status at the exception: KSU=user, EXL=1", exc_last.status & 0x1f,
          ST_KSU_USER | ST_EXL);
    check("  continues after break", v, 2);
}

int main(void)
{
    enter_and_leave();
    address_errors();
    privileged();
    return check_summary();
}
