/* Start-up code: a stack, Status with only IM3 (virtio) unmasked and interrupts off
 * (WAIT still wakes on a pending unmasked interrupt), call main, power off with its
 * return value as exit status (system controller at physical 0x1F001000). */
    .set noreorder
    .text
    .globl _start
_start:
    la      $sp, stack_top
    li      $t0, 0x0800             # Status: IM3 only; clears BEV, ERL, EXL, IE
    mtc0    $t0, $12
    ehb
    jal     main
    nop
    lui     $t0, 0xbf00
    sw      $v0, 0x1000($t0)        # power off, exit status = main's return value
1:  b       1b
    nop

    .bss
    .align  4
    .space  16384
stack_top:
