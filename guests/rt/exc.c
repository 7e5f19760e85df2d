/*
 * exc.c - the runtime's C-level exception handling (the assembly half is
 * vectors.S).  See rt.h for what the default handler does.
 */
#include "rt.h"

volatile struct exc_record exc_last;
static volatile int exc_armed;

extern char user_return[];             /* user.S */
extern volatile uint32_t user_ksp;     /* user.S: kernel sp saved by user_run */
extern volatile int user_active;

void exc_arm(void)
{
    exc_last.taken = 0;
    exc_last.vector = -1;
    exc_last.cause = exc_last.epc = exc_last.badvaddr = exc_last.status = 0;
    exc_last.code = 0xffffffff;
    __asm__ __volatile__("" ::: "memory");
    exc_armed = 1;
    __asm__ __volatile__("" ::: "memory");
}

void exc_disarm(void)
{
    __asm__ __volatile__("" ::: "memory");
    exc_armed = 0;
}

/* Resume after the instruction that caused the exception.  In a branch delay slot
 * EPC is the branch's address (PRA 9.17 "EPC"); we then resume after the delay
 * slot, as if the branch had not been taken - test code that faults in a delay slot
 * puts the branch target right after the slot, so both are the same. */
void exc_skip(struct frame *f)
{
    f->epc += (f->cause & CAUSE_BD) ? 8 : 4;
}

static const char *const exc_names[32] = {
    "Int", "Mod", "TLBL", "TLBS", "AdEL", "AdES", "IBE", "DBE",
    "Sys", "Bp", "RI", "CpU", "Ov", "Tr", "MSAFPE", "FPE",
    "16", "17", "C2E", "TLBRI", "TLBXI", "MSADis", "MDMX", "WATCH",
    "MCheck", "Thread", "DSPDis", "GE", "28", "29", "CacheErr", "31",
};

const char *exc_name(uint32_t code)
{
    return exc_names[code & 31];
}

void exc_fatal(struct frame *f, int vector)
{
    printf("\nunexpected exception %s (ExcCode %u) at vector +0x%03x\n",
           exc_names[CAUSE_EXCCODE(f->cause)], CAUSE_EXCCODE(f->cause), vector);
    printf("  Cause 0x%08x  EPC 0x%08x  BadVAddr 0x%08x  Status 0x%08x\n",
           f->cause, f->epc, f->badvaddr, f->status);
    printf("  ra 0x%08x  sp 0x%08x\n", f->r[R_RA], f->r[R_SP]);
    printf("FAIL: unexpected exception\n");
    exit(EXIT_UNEXPECTED_EXC);
}

void exc_default(struct frame *f, int vector)
{
    uint32_t code = CAUSE_EXCCODE(f->cause);

    /* The SYSCALL that ends user_run(): go back to its caller, in kernel mode
     * (KSU = 0 once ERET clears EXL), on the kernel stack saved by user_run, with
     * v0 as the SYSCALL left it. */
    if (vector == VEC_GENERAL && code == EXC_SYS && user_active &&
        (f->status & ST_KSU_MASK) != ST_KSU_KERNEL) {
        user_exit.epc = f->epc;
        user_exit.status = f->status;
        user_exit.cause = f->cause;
        user_active = 0;
        f->status &= ~ST_KSU_MASK;
        f->epc = (uint32_t)user_return;
        f->r[R_SP] = user_ksp;
        return;
    }

    if (exc_armed) {
        exc_last.taken++;
        exc_last.vector = vector;
        exc_last.cause = f->cause;
        exc_last.code = code;
        exc_last.epc = f->epc;
        exc_last.badvaddr = f->badvaddr;
        exc_last.status = f->status;
        if (code != EXC_INT)
            exc_skip(f);
        return;
    }
    exc_fatal(f, vector);
}

void __attribute__((weak)) exc_handler(struct frame *f, int vector)
{
    exc_default(f, vector);
}
