/*
 * frame.h - the register frame the exception vectors build (vectors.S) and the C
 * handler sees (struct frame).  The offsets are shared with assembly.
 */
#ifndef FRAME_H
#define FRAME_H

#define F_R(n)      ((n) * 4)     /* general registers $0..$31 */
#define F_HI        128
#define F_LO        132
#define F_EPC       136           /* CP0 EPC: where ERET resumes */
#define F_STATUS    140           /* CP0 Status (EXL is set while in the handler) */
#define F_CAUSE     144           /* CP0 Cause (read only: not reloaded) */
#define F_BADVADDR  148           /* CP0 BadVAddr (read only: not reloaded) */
#define F_SIZE      152

#ifndef __ASSEMBLER__
#include <stdint.h>
struct frame {
    uint32_t r[32];
    uint32_t hi, lo;
    uint32_t epc, status, cause, badvaddr;
};
_Static_assert(sizeof(struct frame) == F_SIZE, "frame layout");

/* Register numbers for f->r[] */
enum { R_ZERO, R_AT, R_V0, R_V1, R_A0, R_A1, R_A2, R_A3,
       R_T0, R_T1, R_T2, R_T3, R_T4, R_T5, R_T6, R_T7,
       R_S0, R_S1, R_S2, R_S3, R_S4, R_S5, R_S6, R_S7,
       R_T8, R_T9, R_K0, R_K1, R_GP, R_SP, R_FP, R_RA };
#endif

#endif /* FRAME_H */
