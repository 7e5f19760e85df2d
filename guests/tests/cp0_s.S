/*
 * cp0_s.S - small routines run in user mode by cp0.c (through user_run, rt.h):
 * position independent, they end with SYSCALL, which returns v0 to the kernel.
 */
        .set    noreorder
        .text
        .globl  u_rdhwr_cpunum, u_rdhwr_cc, u_rdhwr_ul
        .balign 16
u_rdhwr_cpunum:
        li      $v0, 0x5eed             /* stays if RDHWR is refused */
        rdhwr   $v0, $0                 /* +4: CPUNum */
        syscall
        nop
u_rdhwr_cc:
        li      $v0, 0x5eed
        rdhwr   $v0, $2                 /* +4: CC, the cycle counter */
        syscall
        nop
u_rdhwr_ul:
        li      $v0, 0x5eed
        rdhwr   $v0, $29                /* +4: UserLocal */
        syscall
        nop
