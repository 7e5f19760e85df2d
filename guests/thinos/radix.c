/*
 * radix.c - parallel radix sort, after SPLASH-2's RADIX (the paper's Fig. 7 runs
 * radix sort on SPLASHOS, section 4.4).
 *
 * RADIX_N keys (default 262144) of 32 bits, from a hash of their index, so that every
 * CPU can make its share of the input and the input does not depend on the number of
 * CPUs.  Each CPU owns a contiguous block of keys.  Each pass sorts on one 8-bit
 * digit, least significant first, in three phases separated by barriers:
 *   1. every CPU counts the digits of its keys (its own histogram);
 *   2. from all histograms every CPU works out where its keys with digit d go: after
 *      all keys with smaller digits, and after the keys with digit d of lower CPUs;
 *   3. every CPU moves its keys there, in order (so each pass is stable).
 * The output is checked (sorted, same multiset of keys) and summarised by checksums,
 * none of which depend on the number of CPUs.
 */
#include "thinos.h"

#ifndef RADIX_N
#define RADIX_N 262144
#endif
#define DIGIT_BITS 8
#define R (1 << DIGIT_BITS)
#define PASSES (32 / DIGIT_BITS)

/* Per-CPU results, one cache line each. */
struct partial {
    uint32_t sum, xor, weighted, unsorted;
} __attribute__((aligned(THIN_LINE)));

static uint32_t *keys, *tmp;
static uint32_t (*hist)[R];                 /* hist[cpu][digit] */
static struct partial *in, *out;

/* The input: murmur3's finaliser, a bijection on 32 bits that mixes well. */
static uint32_t key_of(uint32_t i)
{
    uint32_t h = i * 0x9E3779B9u + 0x7F4A7C15u;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

int thin_main(int cpu, int ncpus)
{
    if (cpu == 0) {
        keys = thin_alloc(RADIX_N * sizeof *keys);
        tmp = thin_alloc(RADIX_N * sizeof *tmp);
        hist = thin_alloc(ncpus * sizeof *hist);
        in = thin_alloc(ncpus * sizeof *in);
        out = thin_alloc(ncpus * sizeof *out);
        thin_printf("radix: %u keys, %u-bit digits, %u passes\n", RADIX_N, DIGIT_BITS,
                    PASSES);
    }
    thin_barrier();

    uint32_t lo = (uint32_t)cpu * RADIX_N / ncpus;
    uint32_t hi = (uint32_t)(cpu + 1) * RADIX_N / ncpus;

    struct partial p = { 0, 0, 0, 0 };
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t k = key_of(i);
        keys[i] = k;
        p.sum += k;
        p.xor ^= k;
    }
    in[cpu] = p;

    uint32_t *src = keys, *dst = tmp;
    for (int pass = 0; pass < PASSES; pass++) {
        int shift = pass * DIGIT_BITS;

        /* 1. histogram of this CPU's keys */
        uint32_t *h = hist[cpu];
        for (int d = 0; d < R; d++)
            h[d] = 0;
        for (uint32_t i = lo; i < hi; i++)
            h[(src[i] >> shift) & (R - 1)]++;
        thin_barrier();

        /* 2. where this CPU's keys of each digit start */
        uint32_t next[R], base = 0;
        for (int d = 0; d < R; d++) {
            for (int c = 0; c < ncpus; c++) {
                if (c == cpu)
                    next[d] = base;
                base += hist[c][d];
            }
        }

        /* 3. move them */
        for (uint32_t i = lo; i < hi; i++) {
            uint32_t k = src[i];
            dst[next[(k >> shift) & (R - 1)]++] = k;
        }
        thin_barrier();         /* all of dst written; also, hist may be reused */

        uint32_t *t = src;
        src = dst;
        dst = t;
    }

    /* Check this CPU's block of the result (and its first key against the key
     * before it), and sum it up. */
    p = (struct partial){ 0, 0, 0, 0 };
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t k = src[i];
        if (i > 0 && src[i - 1] > k)
            p.unsorted++;
        p.sum += k;
        p.xor ^= k;
        p.weighted += k * (i + 1);
    }
    out[cpu] = p;
    thin_barrier();

    if (cpu != 0)
        return 0;
    struct partial a = { 0, 0, 0, 0 }, b = { 0, 0, 0, 0 };
    for (int c = 0; c < ncpus; c++) {
        a.sum += in[c].sum;
        a.xor ^= in[c].xor;
        b.sum += out[c].sum;
        b.xor ^= out[c].xor;
        b.weighted += out[c].weighted;
        b.unsorted += out[c].unsorted;
    }
    int same = a.sum == b.sum && a.xor == b.xor;
    thin_printf("input:  sum %08x xor %08x\n", a.sum, a.xor);
    thin_printf("output: sum %08x xor %08x (%s)\n", b.sum, b.xor,
                same ? "same keys" : "KEYS DIFFER");
    thin_printf("order:  %u keys out of order\n", b.unsorted);
    thin_printf("keys[0] = %08x, keys[%u] = %08x, keys[%u] = %08x\n", src[0],
                RADIX_N / 2, src[RADIX_N / 2], RADIX_N - 1, src[RADIX_N - 1]);
    thin_printf("checksum (sum of key * (index + 1)): %08x\n", b.weighted);
    int ok = same && b.unsorted == 0;
    thin_printf("radix: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
