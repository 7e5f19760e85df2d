/*
 * virtio.h - what a bare-metal driver needs of virtio-mmio version 2 and split
 * virtqueues (virtio 1.1: 2.6 split virtqueues, 4.2.2 MMIO registers, 5.2 block).
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <stdint.h>

#define VIRTIO_MMIO_BASE    0xBF010000u     /* slot 0 through kseg1; slot n: + 0x200*n */
#define VIRTIO_SLOT_STRIDE  0x200u
#define RTC_BASE            0xBF002000u     /* goldfish RTC */

/* 4.2.2: register offsets (32-bit registers) */
#define VIRTIO_MMIO_MAGIC_VALUE          0x000
#define VIRTIO_MMIO_VERSION              0x004
#define VIRTIO_MMIO_DEVICE_ID            0x008
#define VIRTIO_MMIO_DEVICE_FEATURES      0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL  0x014
#define VIRTIO_MMIO_DRIVER_FEATURES      0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL  0x024
#define VIRTIO_MMIO_QUEUE_SEL            0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX        0x034
#define VIRTIO_MMIO_QUEUE_NUM            0x038
#define VIRTIO_MMIO_QUEUE_READY          0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY         0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS     0x060
#define VIRTIO_MMIO_INTERRUPT_ACK        0x064
#define VIRTIO_MMIO_STATUS               0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW       0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH      0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW     0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH    0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW     0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH    0x0a4
#define VIRTIO_MMIO_CONFIG               0x100

/* 2.1: device status */
#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  0x40

/* 6: reserved feature bits (as bit numbers within their 32-bit half) */
#define VIRTIO_F_VERSION_1_HI      (1u << 0)   /* bit 32 */
#define VIRTIO_BLK_F_FLUSH         (1u << 9)

/* 3.1.1 steps 1-5: reset the device at ``regs``, acknowledge it, accept the features
 * ``features_lo`` (low 32 bits) and VERSION_1, and set FEATURES_OK; returns the status
 * the device then reports (FEATURES_OK still set if it agreed). */
static inline uint32_t virtio_negotiate(volatile uint32_t *regs, uint32_t features_lo)
{
    regs[VIRTIO_MMIO_STATUS / 4] = 0;
    regs[VIRTIO_MMIO_STATUS / 4] = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    regs[VIRTIO_MMIO_DRIVER_FEATURES_SEL / 4] = 0;
    regs[VIRTIO_MMIO_DRIVER_FEATURES / 4] = features_lo;
    regs[VIRTIO_MMIO_DRIVER_FEATURES_SEL / 4] = 1;
    regs[VIRTIO_MMIO_DRIVER_FEATURES / 4] = VIRTIO_F_VERSION_1_HI;
    regs[VIRTIO_MMIO_STATUS / 4] = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                                   | VIRTIO_STATUS_FEATURES_OK;
    return regs[VIRTIO_MMIO_STATUS / 4];
}

/* 2.6.5: descriptors */
#define VIRTQ_DESC_F_NEXT   1
#define VIRTQ_DESC_F_WRITE  2

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {            /* 2.6.6 */
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
};

struct virtq_used_elem {        /* 2.6.8 */
    uint32_t id;
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];
};

/* 5.2.6: block requests */
#define VIRTIO_BLK_T_IN      0
#define VIRTIO_BLK_T_OUT     1
#define VIRTIO_BLK_T_FLUSH   4
#define VIRTIO_BLK_T_GET_ID  8
#define VIRTIO_BLK_S_OK      0

struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

#endif
