/*
 * thinos.h - the thin OS: a small library OS for parallel programs.
 *
 * Like the paper's SPLASHOS (Bugnion et al., SOSP'97, section 4.4), the thin OS is
 * linked with one parallel program and has no virtual memory system: everything
 * lives in one address space in the supervisor segment (0xC0000000), mapped once at
 * boot by wired TLB entries.  Inside a virtual machine, page faults are the
 * monitor's business.
 *
 * The program provides thin_main(), which runs once on every CPU (one thread per
 * CPU, "SPMD" like SPLASH-2's ANL macros); the thin OS provides the rest.  The
 * machine powers off when every CPU has returned from thin_main (or called
 * thin_exit): the exit status is the first non-zero status a CPU reported, else 0.
 */
#ifndef THINOS_H
#define THINOS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define THIN_MAX_CPUS   32          /* the machine has at most 32 CPUs */
#define THIN_LINE       128         /* cache line of the simulated machine's L2 */

/* Provided by the program: run on CPU `cpu` of `ncpus`; returns an exit status. */
int thin_main(int cpu, int ncpus);

/* The thin OS. */
int thin_cpu(void);                         /* the CPU this code runs on */
void thin_barrier(void);                    /* wait until all CPUs arrive */
void *thin_alloc(size_t size);              /* shared memory, THIN_LINE-aligned, not zeroed */
int thin_printf(const char *fmt, ...);      /* %d %u %x %s %c %%, width, '0'; whole lines atomic */
int thin_snprintf(char *buf, size_t size, const char *fmt, ...);
int thin_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void thin_exit(int status) __attribute__((noreturn));   /* this CPU is done */
void thin_panic(const char *msg) __attribute__((noreturn)); /* power off now, status 0xFF */

/* A spinlock: one word, 0 = free. */
typedef struct { volatile uint32_t word; } thin_lock_t;

/*
 * Atomic operations with LL/SC (MIPS32 Vol. II, "LL", "SC"): SC stores only if
 * nothing else wrote the word since the LL, and says whether it did.  SYNC orders
 * memory accesses around them (MIPS32 does not promise ordering without it).
 */
static inline uint32_t thin_fetch_add(volatile uint32_t *p, uint32_t v)
{
    uint32_t old, tmp;
    __asm__ volatile(
        "       sync\n"
        "1:     ll      %0, %2\n"
        "       addu    %1, %0, %3\n"
        "       sc      %1, %2\n"
        "       beqz    %1, 1b\n"
        "       sync\n"
        : "=&r"(old), "=&r"(tmp), "+m"(*p)
        : "r"(v)
        : "memory");
    return old;
}

static inline void thin_lock(thin_lock_t *l)
{
    uint32_t tmp;
    __asm__ volatile(
        "1:     ll      %0, %1\n"
        "       bnez    %0, 1b\n"       /* held: spin (on LL, which only reads) */
        "       li      %0, 1\n"
        "       sc      %0, %1\n"
        "       beqz    %0, 1b\n"
        "       sync\n"                 /* the critical section starts after this */
        : "=&r"(tmp), "+m"(l->word)
        :
        : "memory");
}

static inline void thin_unlock(thin_lock_t *l)
{
    __asm__ volatile("sync" ::: "memory");     /* the critical section ends before this */
    l->word = 0;
}

#endif
