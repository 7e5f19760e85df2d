/*
 * irq.c - interrupts (PRA 6.1 "Interrupts", 6.2 "Interrupt Exception", 9.15 Status,
 * 9.16 Cause, 9.10/9.14 Count/Compare).
 *
 * An interrupt is taken when a Cause.IP bit is set, the matching Status.IM bit is
 * set, Status.IE = 1 and EXL = ERL = 0.  IP1..0 are software interrupts (written
 * through Cause); IP7 is the Count/Compare timer (Cause.TI), cleared by writing
 * Compare.  With Cause.IV = 0 interrupts use the general vector (EBase + 0x180),
 * with IV = 1 the special interrupt vector (EBase + 0x200; IntCtl.VS = 0).
 *
 * Nothing here depends on timing: every wait for an interrupt is a bounded loop
 * that stops as soon as the handler has run, and no timer value is printed.
 */
#include "rt.h"

#define WAIT_INSN 0x42000020u

/* Timer deadlines, in Count ticks.  QEMU's Count follows the host's clock (100 MHz:
 * 100000 ticks = 1 ms), so a deadline must leave room for QEMU translating code
 * between reading Count and writing Compare; discovm's Count follows simulated time
 * (half the instruction rate). */
#define DELTA 100000

/* Compare = Count + delta, with interrupts masked.  If Count is already past the new
 * deadline when read again (the host paused QEMU between the two instructions:
 * QEMU's Count follows host time), the interrupt would only come when Count wraps
 * around (~43 s later): then try again.  Writing Compare also clears a timer
 * interrupt that was pending (PRA 9.14), so each call gives one interrupt. */
static void timer_arm(uint32_t delta)
{
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t deadline = mfc0(C0_COUNT) + delta;
        mtc0(C0_COMPARE, deadline);
        if ((int32_t)(deadline - mfc0(C0_COUNT)) > 0)
            return;
    }
}

static volatile struct {
    int count, vector;
    uint32_t cause, pending, cause_after;
    int timer_rearm;            /* timer interrupts still to re-arm */
    uint32_t timer_delta;
} irq;

void exc_handler(struct frame *f, int vector)
{
    if (CAUSE_EXCCODE(f->cause) != EXC_INT) {
        exc_default(f, vector);
        return;
    }
    irq.count++;
    irq.vector = vector;
    irq.cause = f->cause;
    irq.pending = f->cause & f->status & CAUSE_IP_MASK;
    /* Acknowledge: software interrupts by clearing their Cause bit, the timer by
     * writing Compare. */
    if (irq.pending & (CAUSE_IP(0) | CAUSE_IP(1)))
        mtc0(C0_CAUSE, mfc0(C0_CAUSE) & ~irq.pending & (CAUSE_IP(0) | CAUSE_IP(1) |
                                                          CAUSE_IV | CAUSE_DC));
    if (irq.pending & CAUSE_IP(7)) {
        if (irq.timer_rearm > 0) {
            irq.timer_rearm--;
            timer_arm(irq.timer_delta);
        } else {
            mtc0(C0_COMPARE, mfc0(C0_COMPARE));
            f->status &= ~ST_IM(7);     /* done: mask the timer on return */
        }
    }
    irq.cause_after = mfc0(C0_CAUSE);
    /* An interrupt that ends a WAIT may return to the WAIT itself or to the next
     * instruction (implementation-dependent, Vol. II WAIT): always go on after it. */
    if (*(volatile uint32_t *)f->epc == WAIT_INSN)
        f->epc += 4;
}

static void irq_clear(void)
{
    irq.count = 0;
    irq.vector = -1;
    irq.cause = irq.pending = irq.cause_after = 0;
}

/* Spin until an interrupt has been counted, at most `limit` iterations. */
static int wait_irq(int want, int limit)
{
    for (int i = 0; i < limit && irq.count < want; i++)
        __asm__ __volatile__("" ::: "memory");
    return irq.count;
}

static void software(void)
{
    section("software interrupts, general vector");
    irq_clear();
    mtc0(C0_STATUS, ST_IM(0) | ST_IE);
    mtc0(C0_CAUSE, CAUSE_IP(0));
    check("IP0 taken", wait_irq(1, 1000), 1);
    check("  vector", irq.vector, VEC_GENERAL);
    check("  ExcCode = Int", CAUSE_EXCCODE(irq.cause), EXC_INT);
    check("  pending and enabled", irq.pending, CAUSE_IP(0));
    check("  IP0 cleared by the handler", irq.cause_after & CAUSE_IP(0), 0);

    irq_clear();
    mtc0(C0_STATUS, ST_IM(1) | ST_IE);
    mtc0(C0_CAUSE, CAUSE_IP(1));
    check("IP1 taken", wait_irq(1, 1000), 1);
    check("  pending and enabled", irq.pending, CAUSE_IP(1));

    section("masking");
    irq_clear();
    mtc0(C0_STATUS, ST_IM(1) | ST_IE);         /* IM0 = 0 */
    mtc0(C0_CAUSE, CAUSE_IP(0));
    check("IP0 with IM0=0: not taken", wait_irq(1, 1000), 0);
    check("  still pending in Cause", mfc0(C0_CAUSE) & CAUSE_IP(0), CAUSE_IP(0));
    mtc0(C0_STATUS, ST_IM(0) | ST_IM(1) | ST_IE);
    check("  taken once IM0=1", wait_irq(1, 1000), 1);

    irq_clear();
    mtc0(C0_STATUS, ST_IM(0));                 /* IE = 0 */
    mtc0(C0_CAUSE, CAUSE_IP(0));
    check("IP0 with IE=0: not taken", wait_irq(1, 1000), 0);
    uint32_t old;
    __asm__ __volatile__("ei %0\n\tehb" : "=r"(old) :: "memory");
    check("  ei returns the old Status", old & (ST_IE | ST_IM_MASK), ST_IM(0));
    check("  taken after ei", wait_irq(1, 1000), 1);
    __asm__ __volatile__("di %0\n\tehb" : "=r"(old) :: "memory");
    check("di returns the old Status", old & (ST_IE | ST_IM_MASK), ST_IM(0) | ST_IE);
    check("  and clears IE", mfc0(C0_STATUS) & ST_IE, 0);
    irq_clear();
    mtc0(C0_CAUSE, CAUSE_IP(0));
    check("IP0 after di: not taken", wait_irq(1, 1000), 0);
    mtc0(C0_CAUSE, 0);

    /* EXL = 1 also masks interrupts (PRA 6.1.1) */
    irq_clear();
    mtc0(C0_STATUS, ST_IM(0) | ST_IE | ST_EXL);
    mtc0(C0_CAUSE, CAUSE_IP(0));
    int n = wait_irq(1, 1000);
    mtc0(C0_CAUSE, 0);
    mtc0(C0_STATUS, 0);
    check("IP0 with EXL=1: not taken", n, 0);

    section("special interrupt vector (Cause.IV = 1)");
    irq_clear();
    mtc0(C0_STATUS, ST_IM(0) | ST_IM(1) | ST_IE);
    mtc0(C0_CAUSE, CAUSE_IV | CAUSE_IP(1));
    check("IP1 taken", wait_irq(1, 1000), 1);
    check("  at EBase + 0x200", irq.vector, VEC_INTERRUPT);
    check("  ExcCode = Int", CAUSE_EXCCODE(irq.cause), EXC_INT);
    irq_clear();
    mtc0(C0_CAUSE, CAUSE_IV | CAUSE_IP(0));
    check("IP0 taken", wait_irq(1, 1000), 1);
    check("  at EBase + 0x200", irq.vector, VEC_INTERRUPT);
    mtc0(C0_STATUS, 0);
    mtc0(C0_CAUSE, 0);
    /* other exceptions still use the general vector with IV = 1 */
    mtc0(C0_CAUSE, CAUSE_IV);
    uint32_t pc, d = 0;
    TRY(pc, "syscall", [d] "+r"(d) :);
    check("syscall with IV=1: general vector", exc_last.vector, VEC_GENERAL);
    (void)pc;
    mtc0(C0_CAUSE, 0);
}

static uint32_t work(int n)
{
    uint32_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += (uint32_t)i * (uint32_t)i ^ (sum >> 3);
    return sum;
}

static void timer(void)
{
    section("Count/Compare timer (IP7)");
    /* Polled: Cause.TI and IP7 rise when Count reaches Compare, whatever IE/IM */
    irq_clear();
    mtc0(C0_STATUS, 0);
    mtc0(C0_COMPARE, mfc0(C0_COUNT) + 0x40000000);
    check("TI clear before Count reaches Compare", mfc0(C0_CAUSE) & CAUSE_TI, 0);
    timer_arm(DELTA);
    for (int i = 0; i < 10000000 && !(mfc0(C0_CAUSE) & CAUSE_TI); i++)
        ;
    uint32_t cause = mfc0(C0_CAUSE);
    check("Cause.TI rises", cause & CAUSE_TI, CAUSE_TI);
    check("  with IP7", cause & CAUSE_IP(7), CAUSE_IP(7));
    mtc0(C0_COMPARE, mfc0(C0_COUNT) + 0x40000000);
    check("writing Compare clears TI and IP7", mfc0(C0_CAUSE) & (CAUSE_TI | CAUSE_IP(7)), 0);

    /* Interrupt */
    irq_clear();
    irq.timer_rearm = 0;
    timer_arm(DELTA);                   /* Status.IE = 0 here */
    mtc0(C0_STATUS, ST_IM(7) | ST_IE);
    check("timer interrupt taken", wait_irq(1, 10000000), 1);
    check("  vector", irq.vector, VEC_GENERAL);
    check("  Cause.TI", irq.cause & CAUSE_TI, CAUSE_TI);
    check("  pending and enabled", irq.pending, CAUSE_IP(7));
    check("  cleared by writing Compare", irq.cause_after & (CAUSE_TI | CAUSE_IP(7)), 0);

    /* Several interrupts while the program computes: the interrupted code must
     * not notice (every register comes back). */
    irq_clear();
    irq.timer_rearm = 4;
    irq.timer_delta = DELTA / 4;
    mtc0(C0_STATUS, 0);
    timer_arm(DELTA / 4);
    mtc0(C0_STATUS, ST_IM(7) | ST_IE);
    uint32_t sum = 0;
    for (int k = 0; k < 20; k++)
        sum += work(500);
    check("5 timer interrupts", wait_irq(5, 10000000), 5);
    check("  computation undisturbed", sum, 20 * work(500));
    check("  handler masked IM7 at the end", mfc0(C0_STATUS) & ST_IM(7), 0);

    /* WAIT until the timer interrupt.  The handler re-arms the timer once, so
     * that WAIT still ends if the first interrupt came before it. */
    irq_clear();
    irq.timer_rearm = 1;
    irq.timer_delta = DELTA;
    mtc0(C0_STATUS, 0);
    timer_arm(DELTA);
    mtc0(C0_STATUS, ST_IM(7) | ST_IE);
    __asm__ __volatile__("wait" ::: "memory");
    check("wait ends with a timer interrupt", irq.count >= 1, 1);
    wait_irq(2, 10000000);
    mtc0(C0_STATUS, 0);
}

int main(void)
{
    software();
    timer();
    return check_summary();
}
