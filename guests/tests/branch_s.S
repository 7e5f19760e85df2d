/*
 * branch_s.S - the branches and jumps under test (called from branch.c).
 *
 * MIPS32 branches and jumps have a delay slot: the instruction after the branch
 * executes before the branch takes effect, whether or not it is taken (Vol. I,
 * "Branch Delays and the Branch Delay Slot").  Branch-likely instructions
 * (BEQL, ...) execute the delay slot only when the branch is taken: otherwise it
 * is "nullified" (Vol. II, BEQL).
 *
 * Every test function returns a bit mask of what executed:
 *     1  the delay slot
 *     2  the fall-through path (the instruction after the delay slot)
 *     4  the branch target
 * so a taken branch returns 5, a branch not taken 3, a branch-likely not taken 2.
 * The "and link" functions also store {link register value, expected value} at a1.
 */
#include "mips.h"

        .set    noreorder
        .text

/* NAME(a, b): "INSN a, b, target" */
        .macro  BR2 name, insn
        .globl  \name
        .ent    \name
\name:
        move    $v0, $zero
        \insn   $a0, $a1, 1f
        ori     $v0, $v0, 1             /* delay slot */
        ori     $v0, $v0, 2             /* fall through */
        jr      $ra
        nop
1:      ori     $v0, $v0, 4             /* target */
        jr      $ra
        nop
        .end    \name
        .endm

/* NAME(a): "INSN a, target" */
        .macro  BR1 name, insn
        .globl  \name
        .ent    \name
\name:
        move    $v0, $zero
        \insn   $a0, 1f
        ori     $v0, $v0, 1
        ori     $v0, $v0, 2
        jr      $ra
        nop
1:      ori     $v0, $v0, 4
        jr      $ra
        nop
        .end    \name
        .endm

/* NAME(a, uint32_t link[2]): "INSN a, target" that writes ra = branch + 8 */
        .macro  BRAL name, insn
        .globl  \name
        .ent    \name
\name:
        move    $t9, $ra                /* our own return address */
        move    $v0, $zero
        \insn   $a0, 1f
        ori     $v0, $v0, 1
2:      ori     $v0, $v0, 2             /* 2: the expected link value */
        b       3f
        nop
1:      ori     $v0, $v0, 4
3:      sw      $ra, 0($a1)
        lui     $t0, %hi(2b)
        addiu   $t0, $t0, %lo(2b)
        sw      $t0, 4($a1)
        jr      $t9
        nop
        .end    \name
        .endm

        BR2     br_beq, beq
        BR2     br_bne, bne
        BR1     br_blez, blez
        BR1     br_bgtz, bgtz
        BR1     br_bltz, bltz
        BR1     br_bgez, bgez
        BR2     br_beql, beql
        BR2     br_bnel, bnel
        BR1     br_blezl, blezl
        BR1     br_bgtzl, bgtzl
        BR1     br_bltzl, bltzl
        BR1     br_bgezl, bgezl
        BRAL    br_bltzal, bltzal
        BRAL    br_bgezal, bgezal
        BRAL    br_bltzall, bltzall
        BRAL    br_bgezall, bgezall

/* The branch compares its operands before the delay slot changes them. */
        .globl  br_beq_slot_changes_operand
        .ent    br_beq_slot_changes_operand
br_beq_slot_changes_operand:
        move    $v0, $zero
        beq     $a0, $a1, 1f
        addiu   $a0, $a0, 1             /* delay slot: a0 != a1 from now on */
        ori     $v0, $v0, 2
        jr      $ra
        nop
1:      ori     $v0, $v0, 4
        jr      $ra
        nop
        .end    br_beq_slot_changes_operand

/* A backward branch: count a0 down to zero; the delay slot counts iterations. */
        .globl  br_loop
        .ent    br_loop
br_loop:
        move    $v0, $zero
1:      addiu   $a0, $a0, -1
        bne     $a0, $zero, 1b
        addiu   $v0, $v0, 1             /* delay slot, every iteration */
        jr      $ra
        nop
        .end    br_loop

/* j, jr, jr.hb */
        .globl  jmp_j
        .ent    jmp_j
jmp_j:
        move    $v0, $zero
        j       1f
        ori     $v0, $v0, 1
        ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        jr      $ra
        nop
        .end    jmp_j

        .globl  jmp_jr
        .ent    jmp_jr
jmp_jr:
        move    $v0, $zero
        lui     $t0, %hi(1f)
        addiu   $t0, $t0, %lo(1f)
        jr      $t0
        addiu   $t0, $t0, 8             /* delay slot: jr already has the old t0 */
        ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        ori     $v0, $v0, 8
        ori     $v0, $v0, 16
        jr      $ra
        nop
        .end    jmp_jr

        .globl  jmp_jr_hb
        .ent    jmp_jr_hb
jmp_jr_hb:
        move    $v0, $zero
        lui     $t0, %hi(1f)
        addiu   $t0, $t0, %lo(1f)
        jr.hb   $t0
        ori     $v0, $v0, 1
        ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        jr      $ra
        nop
        .end    jmp_jr_hb

/* jal, jalr, jalr rd, jalr.hb, bal: the link is the jump's address + 8, and the
 * jump's delay slot already sees it.  Stores {link, expected, link seen by the delay
 * slot} at a0. */
        .globl  jmp_jal
        .ent    jmp_jal
jmp_jal:
        move    $t9, $ra
        move    $v0, $zero
        jal     1f
        move    $v1, $ra                /* delay slot: ra is already the link */
2:      ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        sw      $ra, 0($a0)
        lui     $t0, %hi(2b)
        addiu   $t0, $t0, %lo(2b)
        sw      $t0, 4($a0)
        sw      $v1, 8($a0)
        jr      $t9
        nop
        .end    jmp_jal

        .globl  jmp_jalr
        .ent    jmp_jalr
jmp_jalr:
        move    $t9, $ra
        move    $v0, $zero
        lui     $t1, %hi(1f)
        addiu   $t1, $t1, %lo(1f)
        jalr    $t1                     /* rd = ra */
        move    $v1, $ra
2:      ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        sw      $ra, 0($a0)
        lui     $t0, %hi(2b)
        addiu   $t0, $t0, %lo(2b)
        sw      $t0, 4($a0)
        sw      $v1, 8($a0)
        jr      $t9
        nop
        .end    jmp_jalr

        .globl  jmp_jalr_rd
        .ent    jmp_jalr_rd
jmp_jalr_rd:
        move    $v0, $zero
        lui     $t1, %hi(1f)
        addiu   $t1, $t1, %lo(1f)
        jalr    $t2, $t1                /* rd = t2, ra untouched */
        move    $v1, $t2
2:      ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        sw      $t2, 0($a0)
        lui     $t0, %hi(2b)
        addiu   $t0, $t0, %lo(2b)
        sw      $t0, 4($a0)
        sw      $v1, 8($a0)
        jr      $ra                     /* still the caller's ra */
        nop
        .end    jmp_jalr_rd

        .globl  jmp_jalr_hb
        .ent    jmp_jalr_hb
jmp_jalr_hb:
        move    $t9, $ra
        move    $v0, $zero
        lui     $t1, %hi(1f)
        addiu   $t1, $t1, %lo(1f)
        jalr.hb $t1
        move    $v1, $ra
2:      ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        sw      $ra, 0($a0)
        lui     $t0, %hi(2b)
        addiu   $t0, $t0, %lo(2b)
        sw      $t0, 4($a0)
        sw      $v1, 8($a0)
        jr      $t9
        nop
        .end    jmp_jalr_hb

        .globl  jmp_bal
        .ent    jmp_bal
jmp_bal:
        move    $t9, $ra
        move    $v0, $zero
        bal     1f
        move    $v1, $ra
2:      ori     $v0, $v0, 2
1:      ori     $v0, $v0, 4
        sw      $ra, 0($a0)
        lui     $t0, %hi(2b)
        addiu   $t0, $t0, %lo(2b)
        sw      $t0, 4($a0)
        sw      $v1, 8($a0)
        jr      $t9
        nop
        .end    jmp_bal

/* A real call and return through jal/jr ra: returns a0 * 2 + 1 */
        .globl  jmp_call
        .ent    jmp_call
jmp_call:
        move    $t9, $ra
        jal     1f
        sll     $v0, $a0, 1             /* delay slot */
        jr      $t9
        addiu   $v0, $v0, 1
1:      jr      $ra
        nop
        .end    jmp_call
