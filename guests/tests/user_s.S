/*
 * user_s.S - routines that user.c runs in user or supervisor mode through user_run
 * (rt.h): position independent, arguments in a0/a1, result in v0, and they end
 * with SYSCALL, which takes the CPU back to kernel mode.  The comment on each line
 * that may fault gives its offset from the routine's start (what EPC will show).
 */
        .set    noreorder
        .text
        .balign 16

        .globl  u_add1
u_add1:
        addiu   $v0, $a0, 1
        syscall                         /* +4 */
        nop

        .globl  u_sum_on_stack
u_sum_on_stack:                         /* 1 + 2 + ... + a0, through the user stack */
        addiu   $sp, $sp, -8
        sw      $zero, 0($sp)
1:      lw      $t0, 0($sp)
        addu    $t0, $t0, $a0
        sw      $t0, 0($sp)
        addiu   $a0, $a0, -1
        bnez    $a0, 1b
        nop
        lw      $v0, 0($sp)
        addiu   $sp, $sp, 8
        syscall
        nop

        .globl  u_load, u_store, u_break, u_exit
u_load:
        li      $v0, 0x5eed
        lw      $v0, 0($a0)             /* +4 */
        syscall
        nop
u_store:
        sw      $a1, 0($a0)             /* +0 */
        li      $v0, 1
        syscall
        nop
u_break:
        break                           /* +0 */
        li      $v0, 2
        syscall
        nop
u_exit:
        syscall
        nop

        /* Privileged instructions: CpU with Cause.CE = 0 unless Status.CU0 = 1 */
        .globl  u_mfc0, u_mtc0, u_eret, u_tlbp, u_cache, u_di
u_mfc0:
        li      $v0, 0x5eed
        mfc0    $v0, $12                /* +4: Status */
        syscall
        nop
u_mtc0:
        li      $v0, 0x5eed
        mtc0    $zero, $14              /* +4: EPC */
        syscall
        nop
u_eret:
        li      $v0, 0x5eed
        eret                            /* +4 */
        syscall
        nop
u_tlbp:
        li      $v0, 0x5eed
        tlbp                            /* +4 */
        syscall
        nop
u_cache:
        li      $v0, 0x5eed
        cache   0x15, 0($a0)            /* +4: Hit_Writeback_Invalidate_D */
        syscall
        nop
u_di:
        li      $v0, 0x5eed
        di      $v0                     /* +4 */
        syscall
        nop
