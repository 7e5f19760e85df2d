"""Segmentation control (MIPS32 PRA, Release 3, "Segmentation Control"; Config3.SC = 1).

QEMU's 24Kf has no SegCtl registers, so this is checked against the manual only: with
SegCtl1.CFG3 set to MUSK (mapped, user/supervisor/kernel), kseg0 goes through the TLB and
supervisor mode may use it, while kseg1 (still UK) stays kernel-only.  This is what the
monitor uses to run a kseg0 kernel in supervisor mode (paper section 4.3.1).
"""

from asmutil import assemble, discovm

PROGRAM = r"""
    .set noreorder
    .set noat
    .globl _start
_start:
    mtc0    $zero, $12              # Status = 0: kernel mode, ERL and BEV cleared
    la      $t0, vectors
    mtc0    $t0, $15, 1             # EBase
    ehb
    la      $t0, 1f                 # continue in kseg1 while kseg0 is being remapped
    lui     $t1, 0x2000
    or      $t0, $t0, $t1
    jr      $t0
    nop
1:  # TLB entry 0: the program's own two pages, 0x80100000 -> physical 0x00100000
    li      $t0, 0x80100000
    mtc0    $t0, $10                # EntryHi (ASID 0)
    li      $t0, (0x100 << 6) | 7   # PFN 0x100, D V G
    mtc0    $t0, $2
    li      $t0, (0x101 << 6) | 7
    mtc0    $t0, $3
    mtc0    $zero, $5               # 4 KiB pages
    mtc0    $zero, $0
    tlbwi
    # TLB entry 1: 0x80400000 -> physical 0x00200000, the odd page invalid
    li      $t0, 0x80400000
    mtc0    $t0, $10
    li      $t0, (0x200 << 6) | 7
    mtc0    $t0, $2
    mtc0    $zero, $3
    li      $t0, 1
    mtc0    $t0, $0
    tlbwi
    li      $t0, 0xA0200000         # store a marker through kseg1 (unmapped)
    li      $t1, 0x12345678
    sw      $t1, 0($t0)
    li      $t0, 0x00330002         # SegCtl1: CFG3 (kseg0) = MUSK, C=3; CFG2 (kseg1) = UK
    mtc0    $t0, $5, 3
    ehb
    li      $t0, 0x80400000         # kseg0 is now mapped: this reads physical 0x00200000
    lw      $t2, 0($t0)
    bne     $t2, $t1, fail
    nop
    li      $t0, (1 << 3) | 2       # KSU = supervisor, EXL
    mtc0    $t0, $12
    la      $t0, super
    mtc0    $t0, $14                # EPC
    ehb
    eret
super:
    li      $t0, 0x80400000         # supervisor mode may use a MUSK segment
    lw      $t2, 0($t0)
    bne     $t2, $t1, fail
    nop
    li      $s0, 1                  # from here an exception is expected
    li      $t0, 0xA0200000         # kseg1 is UK: kernel only -> AdEL
    lw      $t2, 0($t0)
    b       fail
    nop

fail:
    la      $a0, msg_fail
    b       print_from_kseg1
    li      $a1, 1
print_from_kseg1:                   # messages live in .data, which kseg0 no longer maps
    lui     $k1, 0x2000
    j       puts_and_exit
    or      $a0, $a0, $k1

    .align  12
vectors:                            # +0x000: TLB refill: not expected
    la      $a0, msg_refill
    b       print_from_kseg1
    li      $a1, 2
    .org    vectors + 0x180         # +0x180: general exceptions
    beqz    $s0, fail
    mfc0    $k0, $13
    andi    $k0, $k0, 0x7c
    li      $k1, 4 << 2             # AdEL
    bne     $k0, $k1, fail
    mfc0    $k0, $8
    li      $k1, 0xA0200000         # BadVAddr
    bne     $k0, $k1, fail
    mfc0    $k0, $12
    srl     $k0, $k0, 3
    andi    $k0, $k0, 3
    li      $k1, 1                  # taken in supervisor mode
    bne     $k0, $k1, fail
    la      $a0, msg_ok
    b       print_from_kseg1
    li      $a1, 0

    .data
msg_ok:     .asciz "supervisor: mapped kseg0 ok, kseg1 AdEL ok\n"
msg_fail:   .asciz "FAIL\n"
msg_refill: .asciz "unexpected TLB refill\n"
"""


def test_segctl_maps_kseg0_for_supervisor(tmp_path):
    elf = assemble(PROGRAM, tmp_path / "segctl.elf")
    p = discovm("run", "--kernel", elf, "--max-instructions", "100000")
    assert p.stdout == "supervisor: mapped kseg0 ok, kseg1 AdEL ok\n", p.stderr
    assert p.returncode == 0
