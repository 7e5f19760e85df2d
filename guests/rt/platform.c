/*
 * platform.c - switching the machine off.
 */
#include "rt.h"
#include "platform.h"

void exit(int status)
{
#ifdef MALTA
    /* Malta has no power-off register: reset the board through the FPGA's SOFTRES
     * register.  QEMU, started with -no-reboot, exits instead of rebooting.  The
     * exit status is lost; the harness reads the program's summary line. */
    (void)status;
    *(volatile uint32_t *)MALTA_SOFTRES = MALTA_GORESET;
#else
    /* discovm's system controller: a 32-bit store powers the machine off and
     * discovm exits with status = value & 0xFF. */
    *(volatile uint32_t *)SYSCON_POWEROFF = (uint32_t)status;
#endif
    for (;;)                            /* the store takes effect at once */
        ;
}
