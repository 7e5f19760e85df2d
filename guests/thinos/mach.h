/*
 * mach.h - the machine as the thin OS sees it (used by boot.S and the C files).
 *
 * Address map of the thin OS (virtual -> physical):
 *
 *   0x80100000  kseg0, unmapped: the boot stub and the exception vectors (.boot),
 *               physical 0x00100000.  Only code that runs in kernel mode lives here.
 *   0xC0000000  sseg, mapped by wired TLB entry 0: a 32 MiB window onto physical
 *   ..C1FFFFFF  0..32 MiB (two 16 MiB pages).  The image is linked at 0xC0000000 +
 *               its physical address; the heap runs from its end to the end of RAM
 *               or of the window.
 *   0xDF000000  sseg, wired TLB entry 1: the device page (physical 0x1F000000,
 *   ..DF003FFF  16 KiB, uncached): UART, system controller, RTC, IPI/CPU start.
 *
 * sseg is the one segment that is both mapped and reachable from supervisor mode
 * (MIPS32 PRA, "Virtual Memory", table of segments: suseg and sseg), so the thin OS
 * runs in supervisor mode as a guest kernel does under Disco (paper 4.2.1).
 */
#ifndef THINOS_MACH_H
#define THINOS_MACH_H

#define IMAGE_PHYS      0x00100000      /* where the loader puts the image (p_paddr) */
#define WINDOW_VA       0xC0000000
#define WINDOW_SIZE     0x02000000      /* 2 x 16 MiB */
#define DEV_VA          0xDF000000
#define DEV_PHYS        0x1F000000

/* Device registers, as offsets from DEV_VA (DESIGN.md address map, docs/machine.md). */
#define UART_THR        0x0000          /* 16550: transmit holding register */
#define UART_LSR        0x0005          /* 16550: line status; bit 5 = THR empty */
#define LSR_THRE        0x20
#define SYSCON_POWEROFF 0x1000          /* write: power off, exit status = value & 0xFF */
#define IPI_NCPUS       0x3000          /* read: number of CPUs */
#define IPI_WHOAMI      0x3004          /* read: number of the CPU reading */
#define IPI_START_PC    0x3008          /* write: where the next started CPU begins */
#define IPI_START_ARG   0x300C          /* write: its a0 */
#define IPI_START       0x3010          /* write: CPU number to start */
#define IPI_STOP        0x3018          /* write: CPU number to stop */

#define STACK_SHIFT     13              /* 8 KiB stack per CPU */
#define STACK_SIZE      (1 << STACK_SHIFT)

/* CP0 registers (MIPS32 PRA, chapter 9). */
#define C0_INDEX        $0
#define C0_ENTRYLO0     $2
#define C0_ENTRYLO1     $3
#define C0_PAGEMASK     $5
#define C0_WIRED        $6
#define C0_BADVADDR     $8
#define C0_ENTRYHI      $10
#define C0_STATUS       $12
#define C0_CAUSE        $13
#define C0_EPC          $14
#define C0_EBASE        $15, 1
#define C0_CONFIG1      $16, 1

#define ST_EXL          0x00000002
#define ST_KSU_SUPER    0x00000008      /* Status.KSU = 01: supervisor mode */
#define ST_BEV          0x00400000

/*
 * TLB entry fields (PRA 9.5-9.7): EntryLo = PFN << 6 | C << 3 | D << 2 | V << 1 | G.
 * C = 3 cacheable (what kseg0 uses at reset: Config.K0 = 3), C = 2 uncached.
 * G must be set in both halves for the entry to ignore the ASID.
 */
#define PM_16M          0x01FFE000      /* PageMask for 16 MiB pages */
#define PM_16K          0x00006000      /* PageMask for 16 KiB pages */
#define LO_RAM(pa)      ((((pa) >> 12) << 6) | (3 << 3) | 0x7)  /* C=3, D, V, G */
#define LO_DEV(pa)      ((((pa) >> 12) << 6) | (2 << 3) | 0x7)  /* C=2, D, V, G */
#define LO_GLOBAL       0x1                                      /* invalid, G */

#endif
