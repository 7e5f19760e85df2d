/*
 * boot.S - the thin OS's only kernel-mode code: exception vectors, the boot stub
 * that maps the image and drops to supervisor mode, and the supervisor-mode entry.
 *
 * Every CPU runs boot_entry: CPU 0 because it is the ELF's entry point (the loader
 * starts it in kernel mode with a0 = -2, a1 = device tree; DESIGN.md "Boot"), the
 * others because CPU 0 starts them there through the IPI device (thinos.c).  The
 * TLB is per CPU, so each CPU writes its own wired entries.
 *
 * A bare CPU after reset is in kernel mode with Status.ERL = BEV = 1 and an undefined
 * TLB (MIPS32 PRA 6.2 "Reset Exception", 9.4); a started secondary has ERL = BEV = 0
 * and EBase = 0x80000000 (docs/machine.md).  The stub works from either state.
 * It runs in kseg0, which is unmapped, so it works before any TLB entry exists.
 */
#include "mach.h"

        .set    noreorder
        .set    noat

/* ---- .boot: kseg0, physical IMAGE_PHYS (linker script) ---------------------------- */

        .section .boot, "ax"
        .balign 4096
        /*
         * The exception vectors.  EBase must point into kseg0/kseg1 (its bits 31:30
         * are fixed at 0b10, PRA 9.23), so they live here and not in sseg.  With
         * Status.BEV = 0: TLB refill at EBase + 0x000, everything else at + 0x180,
         * interrupts at + 0x200 if Cause.IV = 1 (PRA table 6.4).  The thin OS
         * expects no exception at all: all three report and power off.
         */
        .globl  boot_vectors
boot_vectors:
        j       boot_trap
        nop
        .org    0x180
        j       boot_trap
        nop
        .org    0x200
        j       boot_trap
        nop

        .org    0x280
        .globl  boot_entry
        .ent    boot_entry
boot_entry:
        /* Kernel mode, EXL = ERL = 0, interrupts off, BEV = 1.  Clearing ERL first
         * makes ERET below use EPC (not ErrorEPC) and leaves kuseg mapped. */
        li      $t0, ST_BEV
        mtc0    $t0, C0_STATUS
        ehb

        /* This CPU's number: EBase.CPUNum, bits 9:0 (PRA 9.23; read-only, so the
         * write below keeps it).  s0 carries it to supervisor mode. */
        mfc0    $s0, C0_EBASE
        andi    $s0, $s0, 0x3FF

        /* Exceptions to our vectors.  EBase may be changed only while BEV = 1
         * ("UNDEFINED if ... written with a different value when Status.BEV is 0",
         * PRA 9.23); then BEV = 0 makes the CPU use it. */
        la      $t0, boot_vectors
        mtc0    $t0, C0_EBASE
        ehb
        mtc0    $zero, C0_STATUS
        mtc0    $zero, C0_CAUSE         /* IV = 0, no software interrupts */
        ehb

        /* TLB: after reset its contents are undefined (PRA 9.4), and two entries that
         * match one address are an error (PRA 9.2 "TLB Shutdown").  Make every entry
         * unmatchable: invalid, and each with its own VPN2 in kseg0, which is never
         * translated.  Config1.MMUSize (bits 30:25) = entries - 1. */
        mtc0    $zero, C0_WIRED
        mtc0    $zero, C0_PAGEMASK
        mtc0    $zero, C0_ENTRYLO0
        mtc0    $zero, C0_ENTRYLO1
        mfc0    $t0, C0_CONFIG1
        ext     $t0, $t0, 25, 6         /* t0 = last index */
        li      $t1, 0x80000000
1:      mtc0    $t0, C0_INDEX
        sll     $t2, $t0, 13            /* one VPN2 (8 KiB pair) per entry */
        addu    $t2, $t2, $t1
        mtc0    $t2, C0_ENTRYHI
        ehb
        tlbwi
        bnez    $t0, 1b
        addiu   $t0, $t0, -1

        /* Entry 0: sseg 0xC0000000 -> physical 0, 2 x 16 MiB, cacheable. */
        mtc0    $zero, C0_INDEX
        li      $t0, PM_16M
        mtc0    $t0, C0_PAGEMASK
        li      $t0, WINDOW_VA
        mtc0    $t0, C0_ENTRYHI
        li      $t0, LO_RAM(0)
        mtc0    $t0, C0_ENTRYLO0
        li      $t0, LO_RAM(0x01000000)
        mtc0    $t0, C0_ENTRYLO1
        ehb
        tlbwi

        /* Entry 1: sseg 0xDF000000 -> the devices at physical 0x1F000000, one
         * 16 KiB page (UART, syscon, RTC, IPI are 4 KiB apart), uncached.
         * The odd half is invalid. */
        li      $t0, 1
        mtc0    $t0, C0_INDEX
        li      $t0, PM_16K
        mtc0    $t0, C0_PAGEMASK
        li      $t0, DEV_VA
        mtc0    $t0, C0_ENTRYHI
        li      $t0, LO_DEV(DEV_PHYS)
        mtc0    $t0, C0_ENTRYLO0
        li      $t0, LO_GLOBAL
        mtc0    $t0, C0_ENTRYLO1
        ehb
        tlbwi

        /* Wired = 2: TLBWR never replaces entries 0 and 1 (PRA 9.6).  Nothing here
         * uses TLBWR, but a monitor that virtualises the TLB learns from Wired which
         * entries the guest means to keep.  ASID 0 (the entries are global anyway). */
        li      $t0, 2
        mtc0    $t0, C0_WIRED
        mtc0    $zero, C0_ENTRYHI
        mtc0    $zero, C0_PAGEMASK
        ehb

        /* Drop to supervisor mode: ERET jumps to EPC and clears EXL, after which
         * Status.KSU = 01 applies (PRA 6.2, MIPS32 Vol. II "ERET").  Interrupts stay
         * off (IE = 0) and CP0 becomes unusable (CU0 = 0): the thin OS never again
         * executes a privileged instruction.  a0, a1 and s0 pass through. */
        la      $t0, thin_entry
        mtc0    $t0, C0_EPC
        li      $t0, ST_KSU_SUPER | ST_EXL
        mtc0    $t0, C0_STATUS
        ehb
        eret
        .end    boot_entry

        /*
         * An exception: report it from C (thinos.c) and power off.  Kernel mode with
         * EXL = 1 may use the sseg code and the device page through the wired
         * entries.  k0/k1 are the handler's registers by convention; nothing is
         * saved because nothing returns.  One stack for all CPUs: the first report
         * powers the machine off.
         */
        .ent    boot_trap
boot_trap:
        la      $sp, trap_stack_top
        mfc0    $a0, C0_CAUSE
        mfc0    $a1, C0_EPC
        mfc0    $a2, C0_BADVADDR
        la      $k0, thin_trap
        jr      $k0
        mfc0    $a3, C0_STATUS
        .end    boot_trap

        .balign 8
        .space  1024
trap_stack_top:

/* ---- .text: sseg, supervisor mode from here on ------------------------------------- */

        .text
        /*
         * Each CPU takes its 8 KiB stack from thin_stacks by its CPU number (s0),
         * then calls thin_start(cpu, a0, a1) (thinos.c).
         */
        .globl  thin_entry
        .ent    thin_entry
thin_entry:
        la      $sp, thin_stacks + STACK_SIZE - 16
        sll     $t0, $s0, STACK_SHIFT
        addu    $sp, $sp, $t0
        move    $a2, $a1                /* device tree (CPU 0) */
        move    $a1, $a0                /* -2 on CPU 0 (UHI boot) */
        jal     thin_start
        move    $a0, $s0                /* cpu */
1:      b       1b                      /* thin_start does not return */
        nop
        .end    thin_entry
