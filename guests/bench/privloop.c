/* privloop.c - the monitor's hottest path alone: a kernel loop of privileged instructions
 * (mfc0 Status, di, mtc0 Status), each of which traps under the monitor and is emulated
 * in its compiled fast path.  bench/bench_system.py runs it bare and in a VM: the
 * difference over the number of instructions emulated is the host cost of one trap. */
#include "rt.h"

#ifndef TRAP_ROUNDS
#define TRAP_ROUNDS 1000000
#endif

int main(void)
{
    for (unsigned i = 0; i < TRAP_ROUNDS; i++) {
        unsigned status;
        __asm__ volatile("mfc0 %0, $12\n\tdi\n\tmtc0 %0, $12\n\tehb" : "=r"(status) :: "memory");
    }
    return 0;
}
