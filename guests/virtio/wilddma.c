/*
 * wilddma.c - an adversarial virtio-blk driver: it gives the disk in slot 0 DMA
 * addresses that are not its RAM, to check that a device (and, in a VM, the monitor
 * behind it, paper 4.2.4) refuses them.  Run with 8 MiB of RAM and a disk of at least
 * 64 sectors:  discovm run --kernel wilddma.elf --mem 8M --disk IMG
 *
 * Each attack brings the device up afresh (virtio 1.1, 3.1.1), points one thing
 * somewhere wild - a data buffer, the header, the status byte, an indirect table, or one
 * of the three rings themselves - and submits one request.  Wild means: just past the
 * end of RAM, straddling it, the device window, the boot ROM, the RAM of a bigger
 * machine, 64-bit addresses whose low half is our own RAM (a device that truncates
 * addresses to 32 bits would accept them), and ranges that wrap past 4 GiB or 2^64.
 * The device must refuse every one: the request ends with status IOERR, or the device
 * sets DEVICE_NEEDS_RESET (2.1.2).  One line per attack says which, so the output can be
 * compared between the bare machine and a VM.  A write request from a wild address is
 * followed by reading its sector back: it must still hold zeros (nothing leaked onto
 * the disk).  Finally an ordinary request must still work.
 *
 * Exits 0 if every attack was refused, 1 otherwise.
 */
#include "virtio.h"

#define UART        ((volatile uint8_t *)0xBF000000u)
#define RAM_END     0x00800000u             /* 8 MiB: what the test gives us */
#define QSIZE       8
#define SECTOR      512
#define VIRTIO_F_INDIRECT_DESC (1u << 28)
#define VIRTQ_DESC_F_INDIRECT  4
#define VIRTIO_BLK_S_IOERR     1

#define PHYS(p)     ((uint32_t)(p) & 0x1FFFFFFFu)
#define UNCACHED(p) ((void *)(PHYS(p) | 0xA0000000u))
#define HIGH(a)     (0x100000000ull | (a))  /* a 64-bit address whose low half is a */

static void putc_(char c) { *UART = (uint8_t)c; }

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void puthex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

static volatile uint32_t *const dev = (volatile uint32_t *)VIRTIO_MMIO_BASE;
#define REG(off)  dev[(off) / 4]

static struct virtq_desc desc_area[QSIZE] __attribute__((aligned(4096)));
static uint8_t avail_area[6 + 2 * QSIZE] __attribute__((aligned(4096)));
static uint8_t used_area[6 + 8 * QSIZE] __attribute__((aligned(4096)));
static struct virtq_desc indirect_area[4] __attribute__((aligned(64)));
static struct virtio_blk_req_hdr hdr_area __attribute__((aligned(16)));
static uint8_t status_area __attribute__((aligned(16)));
static uint8_t buf_area[SECTOR] __attribute__((aligned(512)));

#define OWN(x)      ((uint64_t)PHYS(&(x)))  /* the guest-physical address of our own x */

static void zero(volatile uint8_t *p, unsigned n)
{
    while (n--)
        *p++ = 0;
}

static void set_ring(uint32_t low, uint64_t addr)
{
    REG(low) = (uint32_t)addr;
    REG(low + 4) = (uint32_t)(addr >> 32);
}

/* Reset the device and bring it up with queue 0 at the given ring addresses.  The
 * driver's own rings are cleared whatever the device is given. */
static void bring_up(uint64_t desc, uint64_t avail, uint64_t used, uint32_t num)
{
    virtio_negotiate(dev, VIRTIO_F_INDIRECT_DESC);
    zero(UNCACHED(desc_area), sizeof desc_area);
    zero(UNCACHED(avail_area), sizeof avail_area);
    zero(UNCACHED(used_area), sizeof used_area);
    REG(VIRTIO_MMIO_QUEUE_SEL) = 0;
    REG(VIRTIO_MMIO_QUEUE_NUM) = num;
    set_ring(VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
    set_ring(VIRTIO_MMIO_QUEUE_DRIVER_LOW, avail);
    set_ring(VIRTIO_MMIO_QUEUE_DEVICE_LOW, used);
    REG(VIRTIO_MMIO_QUEUE_READY) = 1;
    REG(VIRTIO_MMIO_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                              | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
}

static void bring_up_normal(void)
{
    bring_up(OWN(desc_area), OWN(avail_area), OWN(used_area), QSIZE);
}

/* Lay out one request of up to three descriptors (header, data, status) at the head
 * of the descriptor table; a zero length leaves the data descriptor out. */
static void request(uint32_t type, uint32_t sector, uint64_t hdr, uint64_t data,
                   uint32_t len, int writable, uint64_t status)
{
    volatile struct virtio_blk_req_hdr *h = UNCACHED(&hdr_area);
    volatile struct virtq_desc *d = UNCACHED(desc_area);
    int n = 0;

    h->type = type;
    h->reserved = 0;
    h->sector = sector;
    *(volatile uint8_t *)UNCACHED(&status_area) = 0xEE;
    d[n].addr = hdr;
    d[n].len = sizeof hdr_area;
    d[n].flags = VIRTQ_DESC_F_NEXT;
    d[n].next = n + 1;
    n++;
    if (len) {
        d[n].addr = data;
        d[n].len = len;
        d[n].flags = VIRTQ_DESC_F_NEXT | (writable ? VIRTQ_DESC_F_WRITE : 0);
        d[n].next = n + 1;
        n++;
    }
    d[n].addr = status;
    d[n].len = 1;
    d[n].flags = VIRTQ_DESC_F_WRITE;
    d[n].next = 0;
}

/* Offer descriptor 0 to the device and wait until it uses the chain or says it needs
 * a reset; returns the status byte, or -1 for DEVICE_NEEDS_RESET. */
static int submit(void)
{
    volatile struct virtq_avail *avail = UNCACHED(avail_area);
    volatile struct virtq_used *used = UNCACHED(used_area);
    uint16_t before = used->idx;

    avail->ring[avail->idx % QSIZE] = 0;
    __asm__ volatile("sync" ::: "memory");
    avail->idx = avail->idx + 1;
    __asm__ volatile("sync" ::: "memory");
    REG(VIRTIO_MMIO_QUEUE_NOTIFY) = 0;
    /* The used-buffer or the configuration-change interrupt ends the WAIT. */
    while (used->idx == before && !(REG(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET))
        __asm__ volatile("wait");
    REG(VIRTIO_MMIO_INTERRUPT_ACK) = REG(VIRTIO_MMIO_INTERRUPT_STATUS);
    if (REG(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET)
        return -1;
    return *(volatile uint8_t *)UNCACHED(&status_area);
}

static int refused_all = 1;

/* Print what the device did with attack ``what``; ``s`` from submit(). */
static void report(const char *what, int s)
{
    puts_(what);
    if (s == -1)
        puts_(": refused (device needs reset)\n");
    else if (s == VIRTIO_BLK_S_IOERR)
        puts_(": refused (IOERR)\n");
    else {
        puts_(": ACCEPTED, status ");
        puthex((uint32_t)s);
        putc_('\n');
        refused_all = 0;
    }
}

/* A request with wild addresses, on a device set up normally. */
static void bad_request(const char *what, uint32_t type, uint32_t sector, uint64_t hdr,
                        uint64_t data, uint32_t len, int writable, uint64_t status)
{
    bring_up_normal();
    request(type, sector, hdr, data, len, writable, status);
    report(what, submit());
}

/* An ordinary GET_ID request on a device whose rings are given wild addresses. */
static void bad_rings(const char *what, uint64_t desc, uint64_t avail, uint64_t used)
{
    bring_up(desc, avail, used, QSIZE);
    request(VIRTIO_BLK_T_GET_ID, 0, OWN(hdr_area), OWN(buf_area), 20, 1, OWN(status_area));
    if (REG(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) {
        report(what, -1);                   /* refused when the rings were set up */
        return;
    }
    report(what, submit());
}

/* The sector a wild write aimed at must still be zeros. */
static void check_sector(uint32_t sector)
{
    volatile uint8_t *buf = UNCACHED(buf_area);
    uint32_t sum = 0;

    for (int i = 0; i < SECTOR; i++)
        buf[i] = 0xAA;
    bring_up_normal();
    request(VIRTIO_BLK_T_IN, sector, OWN(hdr_area), OWN(buf_area), SECTOR, 1,
            OWN(status_area));
    int s = submit();
    for (int i = 0; i < SECTOR; i++)
        sum |= buf[i];
    if (s != VIRTIO_BLK_S_OK || sum != 0) {
        puts_("  sector ");
        puthex(sector);
        puts_(" was written!\n");
        refused_all = 0;
    }
}

int main(void)
{
    const uint32_t T_IN = VIRTIO_BLK_T_IN, T_OUT = VIRTIO_BLK_T_OUT;
    const uint64_t hdr = OWN(hdr_area), buf = OWN(buf_area), st = OWN(status_area);

    puts_("wild DMA\n");
    if (REG(VIRTIO_MMIO_MAGIC_VALUE) != 0x74726976 || REG(VIRTIO_MMIO_DEVICE_ID) != 2) {
        puts_("no disk in slot 0\n");
        return 1;
    }

    /* Data buffers the device would write (a disk read). */
    bad_request("read into the byte after RAM", T_IN, 0, hdr, RAM_END, SECTOR, 1, st);
    bad_request("read straddling the end of RAM", T_IN, 0, hdr, RAM_END - 256, SECTOR, 1, st);
    bad_request("read into the UART", T_IN, 0, hdr, 0x1F000000, SECTOR, 1, st);
    bad_request("read into the virtio window", T_IN, 0, hdr, 0x1F010000, SECTOR, 1, st);
    bad_request("read into the boot ROM", T_IN, 0, hdr, 0x1FC00000, SECTOR, 1, st);
    bad_request("read into high RAM", T_IN, 0, hdr, 0x20000000, SECTOR, 1, st);
    bad_request("read into 16 MiB", T_IN, 0, hdr, 0x01000000, SECTOR, 1, st);
    bad_request("read wrapping past 4 GiB", T_IN, 0, hdr, 0xFFFFFF00, SECTOR, 1, st);
    bad_request("read at 4 GiB + own buffer", T_IN, 0, hdr, HIGH(buf), SECTOR, 1, st);
    bad_request("read wrapping past 2^64", T_IN, 0, hdr, 0xFFFFFFFFFFFFFF00ull, SECTOR, 1, st);
    bad_request("read of 4 GiB - 1 bytes", T_IN, 0, hdr, 0, 0xFFFFFFFF, 1, st);
    bad_request("read of 8 sectors at the end of RAM", T_IN, 0, hdr, RAM_END - 1024,
                8 * SECTOR, 1, st);
    bad_request("get-id huge at the end of RAM", VIRTIO_BLK_T_GET_ID, 0, hdr, RAM_END - 8,
                0xFFFFFFFF, 1, st);
    bad_request("get-id wrapping past 4 GiB", VIRTIO_BLK_T_GET_ID, 0, hdr, 0xFFFFFFF8,
                32, 1, st);

    /* Data buffers the device would read (a disk write): nothing may reach the disk. */
    bad_request("write from the byte after RAM", T_OUT, 10, hdr, RAM_END, SECTOR, 0, st);
    check_sector(10);
    bad_request("write from 16 MiB", T_OUT, 11, hdr, 0x01000000, SECTOR, 0, st);
    check_sector(11);
    bad_request("write from the UART", T_OUT, 12, hdr, 0x1F000000, SECTOR, 0, st);
    check_sector(12);
    bad_request("write from 4 GiB + own buffer", T_OUT, 13, hdr, HIGH(buf), SECTOR, 0, st);
    check_sector(13);
    bad_request("write from wrapping past 4 GiB", T_OUT, 14, hdr, 0xFFFFFF00, SECTOR, 0, st);
    check_sector(14);

    /* The header and the status byte. */
    bad_request("header after RAM", T_IN, 0, RAM_END, buf, SECTOR, 1, st);
    bad_request("header at 4 GiB + own header", T_IN, 0, HIGH(hdr), buf, SECTOR, 1, st);
    bad_request("status byte after RAM", T_IN, 0, hdr, buf, SECTOR, 1, RAM_END);
    bad_request("status byte at 4 GiB + own", T_IN, 0, hdr, buf, SECTOR, 1, HIGH(st));
    bad_request("status byte in the UART", T_IN, 0, hdr, buf, SECTOR, 1, 0x1F000005);

    /* An indirect table (2.6.5.3) outside RAM. */
    bring_up_normal();
    {
        volatile struct virtq_desc *d = UNCACHED(desc_area);
        d[0].addr = 0xFFFFFFF0;
        d[0].len = 3 * sizeof(struct virtq_desc);
        d[0].flags = VIRTQ_DESC_F_INDIRECT;
        report("indirect table wrapping past 4 GiB", submit());
        bring_up_normal();
        d[0].addr = HIGH(PHYS(indirect_area));
        d[0].len = 3 * sizeof(struct virtq_desc);
        d[0].flags = VIRTQ_DESC_F_INDIRECT;
        report("indirect table at 4 GiB + own", submit());
    }

    /* The rings themselves. */
    const uint64_t D = OWN(desc_area), A = OWN(avail_area), U = OWN(used_area);
    bad_rings("descriptors straddling the end of RAM", RAM_END - 64, A, U);
    bad_rings("descriptors in the UART", 0x1F000000, A, U);
    bad_rings("descriptors at 4 GiB + own", HIGH(D), A, U);
    bad_rings("descriptors wrapping past 4 GiB", 0xFFFFFFC0, A, U);
    bad_rings("available ring in the boot ROM", D, 0x1FC00000, U);
    bad_rings("available ring at 4 GiB + own", D, HIGH(A), U);
    bad_rings("available ring at 2^64 - 2", D, 0xFFFFFFFFFFFFFFFEull, U);
    bad_rings("used ring after RAM", D, A, RAM_END);
    bad_rings("used ring at 4 GiB + own", D, A, HIGH(U));
    bad_rings("used ring wrapping past 4 GiB", D, A, 0xFFFFFFFC);
    bad_rings("used ring in the virtio window", D, A, 0x1F010000);
    bring_up(D, A, U, 0xFFFF);
    report("queue of 65535 entries",
           REG(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET ? -1 : 0);

    /* After all that, the device still works for an honest request. */
    bring_up_normal();
    request(VIRTIO_BLK_T_GET_ID, 0, hdr, buf, 20, 1, st);
    int s = submit();
    puts_(s == 0 ? "honest request: OK\n" : "honest request: FAILED\n");
    if (s != 0 || !refused_all) {
        puts_("wild DMA: FAIL\n");
        return 1;
    }
    puts_("wild DMA: every attack refused\n");
    return 0;
}
