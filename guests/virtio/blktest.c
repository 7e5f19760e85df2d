/*
 * blktest.c - a bare-metal virtio-blk driver, as small as a driver can be, on the disk
 * in virtio-mmio slot 0 (run: discovm run --kernel blktest.elf --disk IMG).
 *
 * It brings the device up by the book (virtio 1.1, 3.1.1 and 4.2.3), then, with one
 * 8-entry virtqueue and one request at a time:
 *   GET_ID; write sector 2 with bytes (i*7+1) & 0xFF; read it back and compare;
 *   FLUSH; read sector 0 (must still be zeros on the fresh image the test supplies).
 * Each request is a 3-descriptor chain: header (device-readable), data, status byte
 * (device-writable).  The driver sleeps in WAIT until the used ring moves: the
 * completion interrupt (IP3) ends the WAIT.
 *
 * The rings and buffers live in ordinary RAM (.bss).  The driver touches them through
 * kseg1 (uncached), as a driver must on a MIPS without coherent DMA, and gives the
 * device their physical addresses.
 * Prints "virtio-blk test: OK" and exits 0, or prints what failed and exits 1.
 */
#include "virtio.h"

#define UART        ((volatile uint8_t *)0xBF000000u)
#define QSIZE       8
#define SECTOR      512

#define PHYS(p)     ((uint32_t)(p) & 0x1FFFFFFFu)
#define UNCACHED(p) ((void *)(PHYS(p) | 0xA0000000u))

/* ---- a few library functions (freestanding: the compiler may call these) ---- */
void *memset(void *d, int c, unsigned n)
{
    volatile uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned n)
{
    volatile uint8_t *p = d;
    const volatile uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static void putc_(char c) { *UART = (uint8_t)c; }

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void puthex(uint32_t v)
{
    puts_("0x");
    for (int i = 28; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

static void putdec(uint32_t v)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_(buf[--n]);
}

static int fail(const char *what, uint32_t got)
{
    puts_("virtio-blk test: FAIL: ");
    puts_(what);
    puts_(" (");
    puthex(got);
    puts_(")\n");
    return 1;
}

/* ---- the device's registers ---- */
static volatile uint32_t *const dev = (volatile uint32_t *)VIRTIO_MMIO_BASE;
#define REG(off)  dev[(off) / 4]

/* ---- the virtqueue and request buffers (physically contiguous .bss) ---- */
static struct virtq_desc desc_area[QSIZE] __attribute__((aligned(4096)));
static uint8_t avail_area[6 + 2 * QSIZE] __attribute__((aligned(4096)));
static uint8_t used_area[6 + 8 * QSIZE] __attribute__((aligned(4096)));
static struct virtio_blk_req_hdr hdr_area __attribute__((aligned(16)));
static uint8_t status_area __attribute__((aligned(16)));
static uint8_t wbuf_area[SECTOR] __attribute__((aligned(16)));
static uint8_t rbuf_area[SECTOR] __attribute__((aligned(16)));

static volatile struct virtq_desc *desc;
static volatile struct virtq_avail *avail;
static volatile struct virtq_used *used;
static uint16_t last_used;

static uint64_t rtc_ns(void)
{
    volatile uint32_t *rtc = (volatile uint32_t *)RTC_BASE;
    uint32_t low = rtc[0];                      /* TIME_LOW latches TIME_HIGH */
    return ((uint64_t)rtc[1] << 32) | low;
}

/* Submit one request (header, optional data buffer, status) and wait for it.
 * Returns the status byte; *written gets the used ring's length. */
static int blk_request(uint32_t type, uint32_t sector, void *data, int data_writable,
                       uint32_t *written)
{
    volatile struct virtio_blk_req_hdr *hdr = UNCACHED(&hdr_area);
    volatile uint8_t *status = UNCACHED(&status_area);
    int n = 0;

    hdr->type = type;
    hdr->reserved = 0;
    hdr->sector = sector;
    *status = 0xEE;                             /* the device must overwrite this */

    desc[n].addr = PHYS(&hdr_area);
    desc[n].len = sizeof hdr_area;
    desc[n].flags = VIRTQ_DESC_F_NEXT;
    desc[n].next = n + 1;
    n++;
    if (data) {
        desc[n].addr = PHYS(data);
        desc[n].len = SECTOR;
        desc[n].flags = VIRTQ_DESC_F_NEXT | (data_writable ? VIRTQ_DESC_F_WRITE : 0);
        desc[n].next = n + 1;
        n++;
    }
    desc[n].addr = PHYS(&status_area);
    desc[n].len = 1;
    desc[n].flags = VIRTQ_DESC_F_WRITE;
    desc[n].next = 0;

    /* 2.6.13: put the head in the ring, then (after a barrier) bump idx, then notify */
    avail->ring[avail->idx % QSIZE] = 0;
    __asm__ volatile("sync" ::: "memory");
    avail->idx = avail->idx + 1;
    __asm__ volatile("sync" ::: "memory");
    REG(VIRTIO_MMIO_QUEUE_NOTIFY) = 0;

    /* Sleep until the device returns the chain; the interrupt wakes WAIT. */
    while (used->idx == last_used)
        __asm__ volatile("wait");
    uint32_t isr = REG(VIRTIO_MMIO_INTERRUPT_STATUS);
    REG(VIRTIO_MMIO_INTERRUPT_ACK) = isr;       /* lower the line */
    if (!(isr & 1))
        return fail("used buffer interrupt not signalled", isr), -1;
    volatile struct virtq_used_elem *e = &used->ring[last_used % QSIZE];
    last_used++;
    if (e->id != 0)
        return fail("used id", e->id), -1;
    *written = e->len;
    return *status;
}

int main(void)
{
    uint32_t written;

    puts_("virtio-blk test\n");
    if (REG(VIRTIO_MMIO_MAGIC_VALUE) != 0x74726976)
        return fail("magic", REG(VIRTIO_MMIO_MAGIC_VALUE));
    if (REG(VIRTIO_MMIO_VERSION) != 2)
        return fail("version", REG(VIRTIO_MMIO_VERSION));
    if (REG(VIRTIO_MMIO_DEVICE_ID) != 2)
        return fail("slot 0 is not a block device", REG(VIRTIO_MMIO_DEVICE_ID));
    if (dev[(VIRTIO_SLOT_STRIDE * 15 + VIRTIO_MMIO_DEVICE_ID) / 4] != 0)
        return fail("slot 15 is not empty", 1);

    /* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK */
    REG(VIRTIO_MMIO_STATUS) = 0;
    REG(VIRTIO_MMIO_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE;
    REG(VIRTIO_MMIO_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    REG(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 0;
    uint32_t f0 = REG(VIRTIO_MMIO_DEVICE_FEATURES);
    REG(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 1;
    uint32_t f1 = REG(VIRTIO_MMIO_DEVICE_FEATURES);
    if (!(f1 & VIRTIO_F_VERSION_1_HI))
        return fail("VIRTIO_F_VERSION_1 not offered", f1);
    if (!(f0 & VIRTIO_BLK_F_FLUSH))
        return fail("VIRTIO_BLK_F_FLUSH not offered", f0);
    if (!(virtio_negotiate(dev, VIRTIO_BLK_F_FLUSH) & VIRTIO_STATUS_FEATURES_OK))
        return fail("FEATURES_OK refused", REG(VIRTIO_MMIO_STATUS));

    uint32_t capacity = dev[(VIRTIO_MMIO_CONFIG + 0) / 4];     /* low half of le64 */
    puts_("capacity: ");
    putdec(capacity);
    puts_(" sectors\n");
    if (capacity < 3)
        return fail("disk too small", capacity);

    /* 4.2.3.2: queue 0 */
    desc = UNCACHED(desc_area);
    avail = UNCACHED(avail_area);
    used = UNCACHED(used_area);
    memset((void *)desc, 0, sizeof desc_area);
    memset((void *)avail, 0, sizeof avail_area);
    memset((void *)used, 0, sizeof used_area);
    REG(VIRTIO_MMIO_QUEUE_SEL) = 0;
    if (REG(VIRTIO_MMIO_QUEUE_READY) != 0)
        return fail("queue 0 already ready", 1);
    if (REG(VIRTIO_MMIO_QUEUE_NUM_MAX) < QSIZE)
        return fail("QueueNumMax", REG(VIRTIO_MMIO_QUEUE_NUM_MAX));
    REG(VIRTIO_MMIO_QUEUE_NUM) = QSIZE;
    REG(VIRTIO_MMIO_QUEUE_DESC_LOW) = PHYS(desc_area);
    REG(VIRTIO_MMIO_QUEUE_DESC_HIGH) = 0;
    REG(VIRTIO_MMIO_QUEUE_DRIVER_LOW) = PHYS(avail_area);
    REG(VIRTIO_MMIO_QUEUE_DRIVER_HIGH) = 0;
    REG(VIRTIO_MMIO_QUEUE_DEVICE_LOW) = PHYS(used_area);
    REG(VIRTIO_MMIO_QUEUE_DEVICE_HIGH) = 0;
    REG(VIRTIO_MMIO_QUEUE_READY) = 1;
    REG(VIRTIO_MMIO_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                              | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;

    /* GET_ID: the serial number (20 bytes, NUL padded) */
    volatile uint8_t *rbuf = UNCACHED(rbuf_area);
    volatile uint8_t *wbuf = UNCACHED(wbuf_area);
    int s = blk_request(VIRTIO_BLK_T_GET_ID, 0, rbuf_area, 1, &written);
    if (s != VIRTIO_BLK_S_OK)
        return fail("GET_ID status", s);
    puts_("id: ");
    for (int i = 0; i < 20 && rbuf[i]; i++)
        putc_(rbuf[i]);
    putc_('\n');

    /* write sector 2 */
    for (int i = 0; i < SECTOR; i++)
        wbuf[i] = (uint8_t)(i * 7 + 1);
    uint64_t t0 = rtc_ns();
    s = blk_request(VIRTIO_BLK_T_OUT, 2, wbuf_area, 0, &written);
    uint64_t t1 = rtc_ns();
    if (s != VIRTIO_BLK_S_OK)
        return fail("write status", s);
    if (written != 1)
        return fail("write: used length", written);
    /* the request took at least the disk's latency (100 us by default) */
    if (t1 - t0 < 100000)
        return fail("write finished too soon (ns)", (uint32_t)(t1 - t0));

    /* read it back */
    memset((void *)rbuf, 0, SECTOR);
    s = blk_request(VIRTIO_BLK_T_IN, 2, rbuf_area, 1, &written);
    if (s != VIRTIO_BLK_S_OK)
        return fail("read status", s);
    if (written != SECTOR + 1)
        return fail("read: used length", written);
    for (int i = 0; i < SECTOR; i++)
        if (rbuf[i] != (uint8_t)(i * 7 + 1))
            return fail("read back differs at byte", i);

    s = blk_request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, &written);
    if (s != VIRTIO_BLK_S_OK)
        return fail("flush status", s);

    /* sector 0 was not written */
    memset((void *)rbuf, 0xAA, SECTOR);
    s = blk_request(VIRTIO_BLK_T_IN, 0, rbuf_area, 1, &written);
    if (s != VIRTIO_BLK_S_OK)
        return fail("read 0 status", s);
    for (int i = 0; i < SECTOR; i++)
        if (rbuf[i] != 0)
            return fail("sector 0 not zero at byte", i);

    if (REG(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET)
        return fail("device needs reset", REG(VIRTIO_MMIO_STATUS));
    puts_("virtio-blk test: OK\n");
    return 0;
}
