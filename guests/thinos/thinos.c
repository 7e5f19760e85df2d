/*
 * thinos.c - start-up, CPUs, barrier, memory, console and exit of the thin OS.
 *
 * Everything here runs in supervisor mode (boot.S put us there), so it touches only
 * memory and the device page: no CP0, no TLB, no cache instructions.  That is what
 * lets the same binary run on the bare machine and inside a Disco virtual machine,
 * where the monitor needs to step in only for the boot stub and for device accesses.
 */
#include "thinos.h"
#include "mach.h"

/* The device page (wired TLB entry 1). */
static inline uint32_t dev_read32(uint32_t off)
{
    return *(volatile uint32_t *)(DEV_VA + off);
}

static inline void dev_write32(uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(DEV_VA + off) = v;
}

static inline uint8_t dev_read8(uint32_t off)
{
    return *(volatile uint8_t *)(DEV_VA + off);
}

static inline void dev_write8(uint32_t off, uint8_t v)
{
    *(volatile uint8_t *)(DEV_VA + off) = v;
}

extern char __bss_start[], __bss_end[], _end[];
extern void boot_entry(void);

/* One stack per CPU (boot.S indexes this by CPU number).  Its own section, so that
 * CPU 0 can zero .bss while running on it. */
char thin_stacks[THIN_MAX_CPUS][STACK_SIZE]
    __attribute__((section(".stacks"), aligned(STACK_SIZE)));

static int ncpus;
static char *heap, *heap_end;
static thin_lock_t heap_lock, print_lock, exit_lock;
static uint32_t exit_done, exit_status;

/* A barrier counter and its generation, on separate cache lines: arriving CPUs
 * write the count, waiting ones spin on the generation. */
static struct {
    volatile uint32_t count __attribute__((aligned(THIN_LINE)));
    volatile uint32_t gen __attribute__((aligned(THIN_LINE)));
} barrier;

/* C may turn loops into calls to these even with -ffreestanding (GCC manual,
 * "Standards": freestanding code must supply memcpy, memmove, memset, memcmp). */
void *memset(void *d, int c, size_t n)
{
    char *p = d;
    while (n--)
        *p++ = (char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    char *p = d;
    const char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static void __attribute__((noreturn)) power_off(int status)
{
    dev_write32(SYSCON_POWEROFF, (uint32_t)status & 0xFF);
    for (;;)                            /* the machine stops at the write */
        ;
}

/*
 * Called by boot.S on every CPU, in supervisor mode, on the CPU's own stack.
 * CPU 0 gets the boot arguments: uhi = -2 and dtb = the device tree's kseg0
 * address (DESIGN.md "Boot").
 */
void __attribute__((noreturn)) thin_start(int cpu, uint32_t uhi, uint32_t dtb)
{
    if (cpu == 0) {
        for (char *p = __bss_start; p < __bss_end; p++)
            *p = 0;
        ncpus = (int)dev_read32(IPI_NCPUS);
        if (ncpus > THIN_MAX_CPUS)
            ncpus = THIN_MAX_CPUS;

        /* The heap: from the image's end to the end of the window, but not over
         * the device tree, which the loader puts at the top of RAM: its address
         * bounds the RAM there is when the machine (or VM) has less than 32 MiB. */
        heap = (char *)(((uint32_t)_end + THIN_LINE - 1) & ~(THIN_LINE - 1));
        heap_end = (char *)(WINDOW_VA + WINDOW_SIZE);
        if (uhi == 0xFFFFFFFEu && (dtb >> 29) == 4) {           /* kseg0 */
            char *tree = (char *)(WINDOW_VA + (dtb & 0x1FFFFFFF));
            if (tree > heap && tree < heap_end)
                heap_end = tree;
        }

        /* Start the other CPUs at the boot stub: they map themselves and come back
         * here (docs/machine.md, "The IPI / CPU-start device"). */
        for (int i = 1; i < ncpus; i++) {
            dev_write32(IPI_START_PC, (uint32_t)boot_entry);
            dev_write32(IPI_START_ARG, (uint32_t)i);   /* a0; the stub uses EBase.CPUNum */
            dev_write32(IPI_START, (uint32_t)i);
        }
    }
    thin_exit(thin_main(cpu, ncpus));
}

/* The CPU we run on: whose stack is this?  (Each CPU runs on its own stack from
 * thin_stacks, so no register or device access is needed.) */
int thin_cpu(void)
{
    char *sp = __builtin_frame_address(0);
    return (int)((uint32_t)(sp - thin_stacks[0]) >> STACK_SHIFT);
}

/*
 * A counting barrier with a generation number: read the generation, count in; the last CPU to arrive resets
 * the count and bumps the generation, which releases the others.  The generation
 * cannot move before this CPU has counted itself in, so reading it first is safe.
 */
void thin_barrier(void)
{
    uint32_t gen = barrier.gen;
    if (thin_fetch_add(&barrier.count, 1) == (uint32_t)ncpus - 1) {
        barrier.count = 0;
        __asm__ volatile("sync" ::: "memory");
        barrier.gen = gen + 1;
    } else {
        while (barrier.gen == gen)
            ;
    }
    __asm__ volatile("sync" ::: "memory");
}

/* A bump allocator: memory is never freed (SPLASH-2 programs allocate once).
 * Blocks are line-aligned so that two CPUs' data never share a cache line. */
void *thin_alloc(size_t size)
{
    thin_lock(&heap_lock);
    char *p = heap;
    size = (size + THIN_LINE - 1) & ~(size_t)(THIN_LINE - 1);
    if (size > (size_t)(heap_end - heap)) {
        thin_unlock(&heap_lock);
        thin_panic("thin_alloc: out of memory");
    }
    heap += size;
    thin_unlock(&heap_lock);
    return p;
}

/* Polled output on the 16550: wait for an empty transmit register, write. */
static void console_write(const char *s, int n)
{
    for (int i = 0; i < n; i++) {
        while (!(dev_read8(UART_LSR) & LSR_THRE))
            ;
        dev_write8(UART_THR, (uint8_t)s[i]);
    }
}

/* Format into a buffer, then print under a lock: lines of different CPUs do not mix. */
int thin_printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = thin_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    thin_lock(&print_lock);
    console_write(buf, n);
    thin_unlock(&print_lock);
    return n;
}

/*
 * This CPU is done.  The last CPU to finish powers the machine off; the others stop
 * themselves through the IPI device, so that they do not spin (or, in a virtual
 * machine, hold a physical CPU) while the rest finish.
 */
void thin_exit(int status)
{
    thin_lock(&exit_lock);
    if (status && !exit_status)
        exit_status = (uint32_t)status;
    int last = ++exit_done == (uint32_t)ncpus;
    thin_unlock(&exit_lock);
    if (last)
        power_off((int)exit_status);
    dev_write32(IPI_STOP, (uint32_t)thin_cpu());
    for (;;)
        ;
}

void thin_panic(const char *msg)
{
    thin_printf("thinos: panic: %s\n", msg);
    power_off(0xFF);
}

/*
 * boot.S's exception vectors come here (kernel mode, EXL = 1).  The thin OS takes
 * no exceptions when all is well, so this is a report, not a handler.  No lock:
 * the CPU that trapped might hold it.  Only the UART and the system controller are
 * touched, and an exception while reporting one powers off at once.
 */
void __attribute__((noreturn)) thin_trap(uint32_t cause, uint32_t epc, uint32_t badvaddr,
                                         uint32_t status)
{
    static const char *const names[32] = {
        "Int", "Mod", "TLBL", "TLBS", "AdEL", "AdES", "IBE", "DBE",
        "Sys", "Bp", "RI", "CpU", "Ov", "Tr", 0, "FPE",
    };
    static volatile int reporting;
    if (reporting++)
        power_off(0xFD);
    unsigned code = (cause >> 2) & 31;
    char buf[160];
    int n = thin_snprintf(buf, sizeof buf,
                          "thinos: exception %u (%s): EPC %08x BadVAddr %08x Status %08x\n",
                          code, names[code] ? names[code] : "?", epc, badvaddr, status);
    console_write(buf, n < (int)sizeof buf ? n : (int)sizeof buf - 1);
    power_off(0xFD);
}
