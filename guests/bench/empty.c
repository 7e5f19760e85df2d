/* empty.c - does nothing: its run time is the cost of booting the machine (bench_cpu.py). */
#include "rt.h"

int main(void)
{
    return 0;
}
