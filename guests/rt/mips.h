/*
 * mips.h - names for the MIPS32 Release 2 privileged architecture (CP0) and
 * small inline-assembly helpers to reach it from C.
 *
 * Every number here comes from "MIPS32 Architecture For Programmers Volume III:
 * The MIPS32 Privileged Resource Architecture" (MD00090, called "PRA" below);
 * section numbers refer to revision 3.12 or later.
 *
 * This header is used from both C and assembly (.S) files.
 */
#ifndef MIPS_H
#define MIPS_H

/* ---- CP0 registers as "number, select" pairs (PRA chapter 9) ---------------- */
#define C0_INDEX      $0, 0
#define C0_RANDOM     $1, 0
#define C0_ENTRYLO0   $2, 0
#define C0_ENTRYLO1   $3, 0
#define C0_CONTEXT    $4, 0
#define C0_USERLOCAL  $4, 2
#define C0_PAGEMASK   $5, 0
#define C0_WIRED      $6, 0
#define C0_HWRENA     $7, 0
#define C0_BADVADDR   $8, 0
#define C0_COUNT      $9, 0
#define C0_ENTRYHI    $10, 0
#define C0_COMPARE    $11, 0
#define C0_STATUS     $12, 0
#define C0_INTCTL     $12, 1
#define C0_CAUSE      $13, 0
#define C0_EPC        $14, 0
#define C0_PRID       $15, 0
#define C0_EBASE      $15, 1
#define C0_CONFIG     $16, 0
#define C0_CONFIG1    $16, 1

/* ---- Status (PRA 9.15) --------------------------------------------------------- */
#define ST_IE        0x00000001   /* interrupt enable */
#define ST_EXL       0x00000002   /* exception level: set by an exception */
#define ST_ERL       0x00000004   /* error level: set by reset, NMI, cache error */
#define ST_KSU_MASK  0x00000018   /* 00 kernel, 01 supervisor, 10 user */
#define ST_KSU_KERNEL 0x00000000
#define ST_KSU_SUPER 0x00000008
#define ST_KSU_USER  0x00000010
#define ST_IM_SHIFT  8            /* IM7..IM0 in bits 15..8 */
#define ST_IM(n)     (0x100 << (n))
#define ST_IM_MASK   0x0000ff00
#define ST_BEV       0x00400000   /* bootstrap exception vectors (0xBFC00200...) */
#define ST_CU0       0x10000000
#define ST_CU1       0x20000000

/* ---- Cause (PRA 9.16) ------------------------------------------------------------ */
#define CAUSE_EXCCODE(c)  (((c) >> 2) & 0x1f)
#define CAUSE_IP(n)       (0x100 << (n))  /* IP7..IP0 in bits 15..8; IP1..0 writable */
#define CAUSE_IP_MASK     0x0000ff00
#define CAUSE_IV          0x00800000      /* interrupts use the special vector +0x200 */
#define CAUSE_DC          0x08000000      /* disable Count */
#define CAUSE_CE(c)       (((c) >> 28) & 3)  /* coprocessor number of a CpU exception */
#define CAUSE_TI          0x40000000      /* timer interrupt pending */
#define CAUSE_BD          0x80000000      /* exception in a branch delay slot */

/* ExcCode values (PRA table 9.31 "Cause Register ExcCode Field") */
#define EXC_INT    0    /* interrupt */
#define EXC_MOD    1    /* TLB modification */
#define EXC_TLBL   2    /* TLB exception, load or instruction fetch */
#define EXC_TLBS   3    /* TLB exception, store */
#define EXC_ADEL   4    /* address error, load or instruction fetch */
#define EXC_ADES   5    /* address error, store */
#define EXC_IBE    6
#define EXC_DBE    7
#define EXC_SYS    8    /* syscall */
#define EXC_BP     9    /* breakpoint */
#define EXC_RI     10   /* reserved instruction */
#define EXC_CPU    11   /* coprocessor unusable */
#define EXC_OV     12   /* integer overflow */
#define EXC_TR     13   /* trap */

/* ---- Exception vector offsets from EBase (PRA 6.2.1, table 6.4) --------------- */
#define VEC_REFILL     0x000   /* TLB refill, Status.EXL = 0 */
#define VEC_GENERAL    0x180   /* all other exceptions */
#define VEC_INTERRUPT  0x200   /* interrupts when Cause.IV = 1 (IntCtl.VS = 0) */

/* ---- TLB registers (PRA 9.3 - 9.9, 9.13) ---------------------------------------- */
#define ENTRYLO_G      0x01        /* global: ignore ASID */
#define ENTRYLO_V      0x02        /* valid */
#define ENTRYLO_D      0x04        /* "dirty": writes allowed */
#define ENTRYLO_C(c)   ((c) << 3)  /* cache attribute: 2 uncached, 3 cacheable */
#define ENTRYLO_PFN(pa) (((pa) >> 12) << 6)
#define PAGEMASK_4K    0x00000000
#define PAGEMASK_16K   0x00006000
#define PAGEMASK_64K   0x0001e000
#define PAGEMASK_1M    0x001fe000
#define PAGEMASK_16M   0x01ffe000
#define INDEX_P        0x80000000  /* TLBP found no match */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Read/write a CP0 register: mfc0(C0_STATUS), mtc0(C0_STATUS, v).
 * mtc0 is followed by EHB, the Release 2 execution hazard barrier (MIPS32 Vol. II,
 * "EHB"; PRA chapter 2 "CP0 hazards"), so the new value is in effect for the next
 * instruction.  The two-level macros let C0_xxx expand into "$reg, sel" first. */
#define mfc0(r)      _mfc0(r)
#define _mfc0(reg, sel) ({ uint32_t __v; \
        __asm__ __volatile__("mfc0 %0, " #reg ", " #sel : "=r"(__v)); __v; })
#define mtc0(r, v)   _mtc0(r, v)
#define _mtc0(reg, sel, v) __asm__ __volatile__( \
        "mtc0 %z0, " #reg ", " #sel "\n\tehb" :: "Jr"((uint32_t)(v)) : "memory")

static inline void ehb(void) { __asm__ __volatile__("ehb" ::: "memory"); }
static inline void tlbwi(void) { __asm__ __volatile__("tlbwi\n\tehb" ::: "memory"); }
static inline void tlbr(void)  { __asm__ __volatile__("tlbr\n\tehb" ::: "memory"); }
static inline void tlbp(void)  { __asm__ __volatile__("tlbp\n\tehb" ::: "memory"); }

/* kseg0/kseg1 address -> physical address (PRA 4.3: both segments are unmapped
 * windows onto the first 512 MiB of physical memory). */
#define KSEG_TO_PHYS(p)  ((uint32_t)(p) & 0x1fffffff)

/* Address of a local assembler label, without the assembler's "la" macro:
 * ASM_LA("%0", "1f") loads the address of the next label "1" into operand 0. */
#define ASM_LA(reg, label) \
        "lui " reg ", %%hi(" label ")\n\taddiu " reg ", " reg ", %%lo(" label ")\n\t"
#endif

#endif /* MIPS_H */
