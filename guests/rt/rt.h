/*
 * rt.h - the bare-metal runtime shared by all guest test programs.
 *
 * The same sources are built for two machines (see platform.h):
 *   - discovm (the default): UART at 0xBF000000, power-off register at 0xBF001000;
 *   - QEMU's Malta board (-DMALTA): UART at 0xB80003F8, board reset at 0xBF000500.
 *
 * A program provides main(); _start (start.S) sets up the CPU, calls main and powers
 * the machine off with main's return value as exit status.
 */
#ifndef RT_H
#define RT_H

#include "mips.h"
#include "frame.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- console (console.c) ------------------------------------------------------ */
int putchar(int c);
int puts(const char *s);                 /* writes s and a newline */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int getchar(void);                       /* -1 if no character is waiting */

/* ---- power (platform.c) --------------------------------------------------------- */
void exit(int status) __attribute__((noreturn));

/* ---- string helpers the compiler may call (string.c) ---------------------------- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---- exceptions (exc.c, vectors.S) -----------------------------------------------
 *
 * Every exception vector saves all registers in a struct frame and calls
 *
 *     void exc_handler(struct frame *f, int vector);
 *
 * with vector = VEC_REFILL, VEC_GENERAL or VEC_INTERRUPT.  When it returns, the
 * registers, EPC and Status are reloaded from *f and ERET resumes the program, so a
 * handler changes where and how the program resumes by editing f->epc, f->status
 * or f->r[].  (Status is reloaded from the frame: change f->status, not the live
 * register, if the change must survive the return.)
 *
 * The runtime's own exc_handler (a weak symbol: a program may define its own and
 * call exc_default() for the cases it does not handle) does three things:
 *   - a SYSCALL from user/supervisor mode started by user_run() returns to user_run's
 *     caller in kernel mode;
 *   - if a test armed it with exc_arm(), it records the exception in exc_last and
 *     resumes after the faulting instruction (after the delay slot if Cause.BD);
 *   - anything else is a bug: it prints Cause, EPC and BadVAddr and exits with
 *     status EXIT_UNEXPECTED_EXC.
 * Exception handlers are not reentrant: an exception inside exc_handler is fatal.
 */
void exc_handler(struct frame *f, int vector);
void exc_default(struct frame *f, int vector);
void exc_skip(struct frame *f);          /* EPC past the faulting instruction */
void exc_fatal(struct frame *f, int vector) __attribute__((noreturn));

struct exc_record {
    int taken;                           /* number of exceptions recorded */
    int vector;                          /* VEC_xxx */
    uint32_t cause, epc, badvaddr, status;
    uint32_t code;                       /* Cause.ExcCode */
};
extern volatile struct exc_record exc_last;
void exc_arm(void);                      /* record (and skip) the next exceptions */
void exc_disarm(void);
const char *exc_name(uint32_t code);     /* "AdEL", "TLBS", ... */
#define EXIT_UNEXPECTED_EXC  99

/* ---- user and supervisor mode (user.S) -------------------------------------------
 *
 * user_run(mode, entry, a0, a1) enters `entry` in `mode` (ST_KSU_USER or
 * ST_KSU_SUPER) with ERET, arguments in a0/a1 and a small user stack, and returns
 * the value of v0 when that code executes SYSCALL.  The code runs through the
 * "user window": a TLB entry (index RT_TLB_INDEX, global, 2 x 1 MiB pages) that maps
 * virtual USER_WINDOW.. onto physical 0..2 MiB, where this program is loaded.
 * USER_VA(kseg0 address) is the window address of the same byte.  Code run this way
 * must be position independent (branches, no j/jal/la) and reach memory only
 * through USER_VA addresses it is given.
 */
uint32_t user_run(uint32_t mode, uint32_t entry, uint32_t a0, uint32_t a1);
#define USER_WINDOW      0x00400000u
#define RT_TLB_INDEX     15              /* TLB entry the runtime uses; tests: 0..14 */
#define USER_VA(p)       (KSEG_TO_PHYS(p) + USER_WINDOW)
void user_map_window(void);
struct user_exit {                        /* the SYSCALL that ended user_run */
    uint32_t epc, status, cause;
};
extern volatile struct user_exit user_exit;

/* ---- TLB (tlb.c) ----------------------------------------------------------------- */
void tlb_invalidate_all(void);           /* every entry: no match possible */
void tlb_invalidate(int index);
void tlb_write(int index, uint32_t entryhi, uint32_t lo0, uint32_t lo1, uint32_t pagemask);

/* ---- self checks (check.c) ------------------------------------------------------
 * Each check prints one line: "ok   NAME = VALUE" or "FAIL NAME = GOT, want WANT".
 * check_addr() prints no value when it passes (addresses differ between the builds
 * for the two machines, and the output of both must be identical).
 * check_summary() prints "PASS: N checks" or "FAIL: F of N checks failed" and
 * returns 0 or 1 (main returns it: the exit status).
 */
int check(const char *name, uint32_t got, uint32_t want);
int check_addr(const char *name, uint32_t got, uint32_t want);
int check_summary(void);
/* One exception was recorded since exc_arm(), with this ExcCode, at this EPC and
 * Cause.BD = bd; check_no_exc: none was. */
int check_exc(const char *name, uint32_t code, uint32_t epc, int bd);
int check_no_exc(const char *name);

/* Run one instruction with exceptions armed and report where it was:
 *   TRY(pc, "add %[d], %[a], %[b]", [d] "+r"(d) : [a] "r"(a), [b] "r"(b));
 * sets pc to the instruction's address.  Its operands are named ([d], [a], ...). */
#define TRY(pc, insn, ...) do {                                               \
        exc_arm();                                                            \
        __asm__ __volatile__(".set push\n\t.set noreorder\n\t"             \
                             ASM_LA("%[pc_]", "1f") "1:\t" insn "\n\t"     \
                             ".set pop"                                       \
                             : [pc_] "=&r"(pc), __VA_ARGS__ : "memory");      \
        exc_disarm();                                                         \
    } while (0)
void section(const char *title);         /* "== title" */

#endif /* RT_H */
