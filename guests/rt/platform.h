/*
 * platform.h - the only differences between the two machines the programs run on.
 *
 * discovm (default): the fixed physical map of DESIGN.md, reached through kseg1
 *   (uncached, unmapped: virtual 0xA0000000 + physical).
 *   UART 0 (16550A, byte registers)  physical 0x1F000000 -> 0xBF000000
 *   system controller, power off     physical 0x1F001000 -> 0xBF001000
 *
 * QEMU Malta (-DMALTA): hw/mips/malta.c.
 *   The Super I/O UART (COM1, QEMU's serial0) sits at ISA I/O port 0x3F8; ISA I/O
 *   space is at physical 0x18000000, so it is at 0xB80003F8 in kseg1.
 *   The FPGA's SOFTRES register (physical 0x1F000500): writing 0x42 resets the
 *   board; with -no-reboot QEMU exits instead.  (QEMU's exit status is then 0
 *   whatever the program returned: the test harness reads the summary line.)
 */
#ifndef PLATFORM_H
#define PLATFORM_H

#ifdef MALTA
#define UART_BASE      0xB80003F8u
#define MALTA_SOFTRES  0xBF000500u
#define MALTA_GORESET  0x42
#define PLATFORM_NAME  "malta"
#else
#define UART_BASE      0xBF000000u
#define SYSCON_POWEROFF 0xBF001000u
#define PLATFORM_NAME  "discovm"
#endif

/* 16550A registers (byte offsets, register shift 0) */
#define UART_THR  0     /* transmit holding register (write) */
#define UART_RBR  0     /* receive buffer register (read) */
#define UART_IER  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define LSR_DR    0x01  /* a received byte is waiting */
#define LSR_THRE  0x20  /* transmit holding register empty */

#endif /* PLATFORM_H */
