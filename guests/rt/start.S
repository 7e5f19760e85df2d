/*
 * start.S - the program's entry point.
 *
 * How we get here:
 *   discovm: CPU 0 starts at the ELF entry point in kernel mode, a0 = -2 and
 *            a1 = the device tree's address (the UHI boot convention).
 *   QEMU Malta: a small boot loader that QEMU writes into the flash at 0xBFC00000
 *            jumps here, with YAMON-style arguments in a0..a3.
 * Neither set of arguments is used.  In both cases the CPU is in its reset state:
 * Status.ERL = 1 and Status.BEV = 1 (PRA 6.2.2 "Reset Exception"): exceptions would
 * go to the boot ROM vectors at 0xBFC00200/0xBFC00380 and, while ERL = 1, kuseg is
 * an unmapped window on physical memory (PRA 4.5 "Address Translation for kuseg
 * when ERL = 1").
 */
#include "mips.h"

        .section .text.start, "ax"
        .set    noreorder
        .globl  _start
        .ent    _start
_start:
        /* A stack in .bss (the linker script puts .bss in its own pages). */
        lui     $sp, %hi(_stack_top)
        addiu   $sp, $sp, %lo(_stack_top)

        /* Interrupts off, EXL clear, kernel mode; keep BEV and ERL for now. */
        lui     $t0, %hi(ST_BEV)
        ori     $t0, $t0, ST_ERL
        mtc0    $t0, C0_STATUS
        ehb

        /* Our own exception vectors: EBase (CP0 15, select 1; PRA 9.23) holds the
         * base of the 4 KiB-aligned vector area: refill at +0x000, general at
         * +0x180, interrupt at +0x200.  EBase may only be changed while Status.BEV = 1
         * ("the operation of the processor is UNDEFINED if the Exception Base field
         * is written with a different value when Status.BEV is 0", PRA 9.23), so
         * we write it first and clear BEV afterwards.  Bits 31:30 read as 0b10
         * (the vectors are always in kseg0/kseg1). */
        lui     $t0, %hi(_vectors)
        addiu   $t0, $t0, %lo(_vectors)
        mtc0    $t0, C0_EBASE
        ehb

        /* Status = 0: kernel mode (KSU = 0), EXL = ERL = 0, BEV = 0 (vectors at
         * EBase), all interrupts masked (IE = 0, IM = 0), coprocessors 0-3 unusable
         * outside kernel mode (CU = 0). */
        mtc0    $zero, C0_STATUS
        ehb
        /* Cause = 0: no software interrupt requested, IV = 0 (interrupts use the
         * general vector), DC = 0 (Count runs). */
        mtc0    $zero, C0_CAUSE
        ehb

        /* Zero .bss (C expects it; the loader need not do it).  Both ends are
         * 4-byte aligned (see link.ld). */
        lui     $t0, %hi(__bss_start)
        addiu   $t0, $t0, %lo(__bss_start)
        lui     $t1, %hi(__bss_end)
        addiu   $t1, $t1, %lo(__bss_end)
1:      beq     $t0, $t1, 2f
        nop
        sw      $zero, 0($t0)
        b       1b
        addiu   $t0, $t0, 4
2:
        jal     rt_init                 /* TLB to a known state (tlb.c) */
        nop
        jal     main
        move    $a0, $zero              /* main(0, 0): no arguments */
        jal     exit                    /* exit(main's return value) */
        move    $a0, $v0
3:      b       3b                      /* not reached */
        nop
        .end    _start
