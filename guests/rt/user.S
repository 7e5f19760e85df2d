/*
 * user.S - running code in user or supervisor mode and coming back.
 *
 *   uint32_t user_run(uint32_t mode, uint32_t entry, uint32_t a0, uint32_t a1);
 *
 * There is no instruction that "calls" a less privileged mode.  The way down is
 * the way an operating system returns from an exception (PRA 6.2, MIPS32 Vol. II
 * "ERET"): set Status.EXL (so that the CPU stays in kernel mode meanwhile), put the
 * new mode in Status.KSU and the target address in EPC, and execute ERET, which
 * clears EXL and jumps to EPC.  From then on the CPU runs in the mode KSU says.
 *
 * The way back is an exception: the code executes SYSCALL; exc_default (exc.c)
 * recognises it, points the frame's EPC at user_return, clears KSU in the frame and
 * restores the kernel stack pointer saved here; its ERET then lands at user_return
 * in kernel mode, with v0 as the user code left it.
 */
#include "mips.h"

        .set    noreorder
        .text
        .globl  user_run
        .ent    user_run
user_run:
        /* Save the callee-saved registers: the user code may use any register. */
        addiu   $sp, $sp, -48
        sw      $s0, 0($sp)
        sw      $s1, 4($sp)
        sw      $s2, 8($sp)
        sw      $s3, 12($sp)
        sw      $s4, 16($sp)
        sw      $s5, 20($sp)
        sw      $s6, 24($sp)
        sw      $s7, 28($sp)
        sw      $fp, 32($sp)
        sw      $ra, 36($sp)
        sw      $gp, 40($sp)
        lui     $t0, %hi(user_ksp)
        sw      $sp, %lo(user_ksp)($t0)
        li      $t1, 1
        lui     $t0, %hi(user_active)
        sw      $t1, %lo(user_active)($t0)

        /* The window through which user code reaches this program. */
        move    $s0, $a0
        move    $s1, $a1
        move    $s2, $a2
        jal     user_map_window
        move    $s3, $a3

        /* Status: EXL = 1 and KSU = mode, interrupts off (IE = 0). */
        mfc0    $t0, C0_STATUS
        li      $t1, ~(ST_KSU_MASK | ST_IE)
        and     $t0, $t0, $t1
        or      $t0, $t0, $s0
        ori     $t0, $t0, ST_EXL
        mtc0    $t0, C0_STATUS
        mtc0    $s1, C0_EPC
        lui     $sp, %hi(user_stack_top)
        addiu   $sp, $sp, %lo(user_stack_top)
        lui     $t0, 0x8040             /* kseg0 -> user window address: */
        addu    $sp, $sp, $t0           /* 0x80000000 + x -> 0x00400000 + x */
        move    $a0, $s2
        move    $a1, $s3
        move    $ra, $zero
        ehb
        eret                            /* to EPC, in mode KSU */

        .globl  user_return
user_return:
        /* Back in kernel mode on the kernel stack (exc_default did that). */
        lw      $s0, 0($sp)
        lw      $s1, 4($sp)
        lw      $s2, 8($sp)
        lw      $s3, 12($sp)
        lw      $s4, 16($sp)
        lw      $s5, 20($sp)
        lw      $s6, 24($sp)
        lw      $s7, 28($sp)
        lw      $fp, 32($sp)
        lw      $ra, 36($sp)
        lw      $gp, 40($sp)
        jr      $ra
        addiu   $sp, $sp, 48
        .end    user_run

        .bss
        .balign 8
        .globl  user_ksp, user_active
user_ksp:       .word 0
user_active:    .word 0
        .balign 16
user_stack:     .space 4096
user_stack_top:
