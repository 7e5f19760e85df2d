/*
 * vectors.S - the exception vectors and the code that saves and restores a frame.
 *
 * When an exception happens (PRA 6.2 "Exceptions", "General Exception Processing"):
 *   - EPC gets the address of the instruction that caused it, or of the branch
 *     when that instruction is in a branch delay slot (then Cause.BD = 1);
 *   - Cause.ExcCode says what happened; BadVAddr, Context and EntryHi are set for
 *     address and TLB errors;
 *   - Status.EXL is set: the CPU is now in kernel mode with interrupts disabled
 *     whatever KSU and IE say;
 *   - the CPU jumps to a vector.  With Status.BEV = 0 the vectors are at EBase:
 *       +0x000  TLB refill (a TLB miss while EXL = 0)
 *       +0x180  everything else ("general exception")
 *       +0x200  interrupts, if Cause.IV = 1 (and IntCtl.VS = 0)
 *     (PRA table 6.4 "Exception Vector Offsets").
 *
 * k0 and k1 ($26, $27) are reserved for exception handlers by the software
 * convention: the handler may destroy them without saving, which is what lets it
 * start working before anything is saved.  Every vector puts its own offset in k1
 * and jumps to exc_common.  exc_common saves all other registers, HI/LO and the
 * interesting CP0 registers in exc_frame (struct frame, frame.h), calls the C
 * function exc_handler(&exc_frame, vector) on its own stack, then reloads
 * everything from the frame - including EPC and Status, which the handler may
 * have changed - and returns with ERET.  ERET (MIPS32 Vol. II "ERET"; PRA 6.2)
 * jumps to EPC, clears Status.EXL (so KSU applies again: the CPU may drop to user
 * mode at this point), clears the LL bit, and clears hazards.
 *
 * There is one frame and one handler stack: exceptions do not nest.
 */
#include "mips.h"
#include "frame.h"

        .set    noreorder
        .set    noat                    /* we save at ourselves: the assembler must not use it */

        .section .text.vectors, "ax"
        .balign 4096
        .globl  _vectors
_vectors:
        /* EBase + 0x000: TLB refill */
        j       exc_common
        addiu   $k1, $zero, VEC_REFILL  /* (branch delay slot) */

        .org    VEC_GENERAL
        /* EBase + 0x180: general exception vector */
        j       exc_common
        addiu   $k1, $zero, VEC_GENERAL

        .org    VEC_INTERRUPT
        /* EBase + 0x200: interrupts when Cause.IV = 1 */
        j       exc_common
        addiu   $k1, $zero, VEC_INTERRUPT

        .text
        .globl  exc_common
        .ent    exc_common
exc_common:
        lui     $k0, %hi(exc_frame)
        addiu   $k0, $k0, %lo(exc_frame)
        sw      $zero, F_R(0)($k0)
        sw      $1, F_R(1)($k0)
        sw      $2, F_R(2)($k0)
        sw      $3, F_R(3)($k0)
        sw      $4, F_R(4)($k0)
        sw      $5, F_R(5)($k0)
        sw      $6, F_R(6)($k0)
        sw      $7, F_R(7)($k0)
        sw      $8, F_R(8)($k0)
        sw      $9, F_R(9)($k0)
        sw      $10, F_R(10)($k0)
        sw      $11, F_R(11)($k0)
        sw      $12, F_R(12)($k0)
        sw      $13, F_R(13)($k0)
        sw      $14, F_R(14)($k0)
        sw      $15, F_R(15)($k0)
        sw      $16, F_R(16)($k0)
        sw      $17, F_R(17)($k0)
        sw      $18, F_R(18)($k0)
        sw      $19, F_R(19)($k0)
        sw      $20, F_R(20)($k0)
        sw      $21, F_R(21)($k0)
        sw      $22, F_R(22)($k0)
        sw      $23, F_R(23)($k0)
        sw      $24, F_R(24)($k0)
        sw      $25, F_R(25)($k0)
        sw      $zero, F_R(26)($k0)     /* k0, k1: not preserved (see above) */
        sw      $zero, F_R(27)($k0)
        sw      $28, F_R(28)($k0)
        sw      $29, F_R(29)($k0)
        sw      $30, F_R(30)($k0)
        sw      $31, F_R(31)($k0)
        mfhi    $t0
        sw      $t0, F_HI($k0)
        mflo    $t0
        sw      $t0, F_LO($k0)
        mfc0    $t0, C0_EPC
        sw      $t0, F_EPC($k0)
        mfc0    $t0, C0_STATUS
        sw      $t0, F_STATUS($k0)
        mfc0    $t0, C0_CAUSE
        sw      $t0, F_CAUSE($k0)
        mfc0    $t0, C0_BADVADDR
        sw      $t0, F_BADVADDR($k0)

        /* exc_handler(frame, vector) on the handler stack.  Still EXL = 1: kernel
         * mode, interrupts off, and a TLB miss would go to the general vector. */
        move    $a0, $k0
        move    $a1, $k1
        lui     $sp, %hi(_exc_stack_top)
        addiu   $sp, $sp, %lo(_exc_stack_top)
        jal     exc_handler
        addiu   $sp, $sp, -16           /* argument save area of the o32 ABI */

        /* Back from C: reload everything from the frame.  EXL must stay set until
         * ERET (the handler's Status may have lost it only by mistake); with EXL = 1
         * we stay in kernel mode even if the new Status says user mode. */
        lui     $k0, %hi(exc_frame)
        addiu   $k0, $k0, %lo(exc_frame)
        lw      $k1, F_STATUS($k0)
        ori     $k1, $k1, ST_EXL
        mtc0    $k1, C0_STATUS
        lw      $k1, F_EPC($k0)
        mtc0    $k1, C0_EPC
        lw      $k1, F_HI($k0)
        mthi    $k1
        lw      $k1, F_LO($k0)
        mtlo    $k1
        lw      $1, F_R(1)($k0)
        lw      $2, F_R(2)($k0)
        lw      $3, F_R(3)($k0)
        lw      $4, F_R(4)($k0)
        lw      $5, F_R(5)($k0)
        lw      $6, F_R(6)($k0)
        lw      $7, F_R(7)($k0)
        lw      $8, F_R(8)($k0)
        lw      $9, F_R(9)($k0)
        lw      $10, F_R(10)($k0)
        lw      $11, F_R(11)($k0)
        lw      $12, F_R(12)($k0)
        lw      $13, F_R(13)($k0)
        lw      $14, F_R(14)($k0)
        lw      $15, F_R(15)($k0)
        lw      $16, F_R(16)($k0)
        lw      $17, F_R(17)($k0)
        lw      $18, F_R(18)($k0)
        lw      $19, F_R(19)($k0)
        lw      $20, F_R(20)($k0)
        lw      $21, F_R(21)($k0)
        lw      $22, F_R(22)($k0)
        lw      $23, F_R(23)($k0)
        lw      $24, F_R(24)($k0)
        lw      $25, F_R(25)($k0)
        lw      $28, F_R(28)($k0)
        lw      $29, F_R(29)($k0)
        lw      $30, F_R(30)($k0)
        lw      $31, F_R(31)($k0)
        /* An EHB orders the MTC0s above before ERET reads EPC and Status
         * (PRA chapter 2, hazards: MTC0 EPC/Status -> ERET). */
        ehb
        eret
        .end    exc_common

        .bss
        .balign 8
        .globl  exc_frame
exc_frame:
        .space  F_SIZE
