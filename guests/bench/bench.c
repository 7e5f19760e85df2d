/*
 * bench.c - a CPU-bound integer workload for `make bench`.
 *
 * A mix of what integer code spends its time on: hashing (multiply, shift, xor),
 * sorting (loads, stores, data-dependent branches), matrix multiplication (multiply-
 * accumulate over arrays), a bitwise CRC-32 (tight loops of shifts and branches) and
 * division.  Each round works on fresh pseudo-random data; every part folds its result
 * into a checksum, printed at the end: it must be the same on every machine.
 *
 * ROUNDS (set by the Makefile) scales the run: one round is about 0.47 M instructions.
 * Only 32-bit arithmetic, so nothing from libgcc is needed.
 */
#include "rt.h"

#ifndef ROUNDS
#define ROUNDS 1
#endif

#define NSORT   1024        /* words sorted a round */
#define NMAT    20          /* NMAT x NMAT matrices */
#define NCRC    1024        /* bytes a round through the CRC */
#define NHASH   2048        /* words hashed a round */
#define NDIV    512         /* divisions a round */

static uint32_t rng_state = 0x12345678u;

static uint32_t rnd(void)               /* xorshift32 */
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static uint32_t rotl(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static uint32_t fmix(uint32_t h)        /* MurmurHash3's finaliser */
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t words[NHASH];
static uint32_t sortbuf[NSORT];
static int32_t ma[NMAT][NMAT], mb[NMAT][NMAT], mc[NMAT][NMAT];
static uint8_t bytes[NCRC];

static uint32_t hash_part(void)
{
    uint32_t h = 0x9747b28cu;
    for (int i = 0; i < NHASH; i++)
        words[i] = rnd();
    for (int i = 0; i < NHASH; i++) {
        uint32_t k = words[i] * 0xcc9e2d51u;
        k = rotl(k, 15) * 0x1b873593u;
        h = rotl(h ^ k, 13) * 5 + 0xe6546b64u;
    }
    return fmix(h ^ NHASH);
}

static void sift_down(uint32_t *a, int root, int n)
{
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && a[child] < a[child + 1])
            child++;
        if (a[root] >= a[child])
            return;
        uint32_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static uint32_t sort_part(void)
{
    uint32_t *a = sortbuf;
    for (int i = 0; i < NSORT; i++)
        a[i] = rnd() % 100000u;             /* duplicates, division by a constant */
    /* insertion sort of small runs, then heap sort of the whole */
    for (int i = 1; i < 16; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
    for (int i = NSORT / 2 - 1; i >= 0; i--)
        sift_down(a, i, NSORT);
    for (int n = NSORT - 1; n > 0; n--) {
        uint32_t t = a[0];
        a[0] = a[n];
        a[n] = t;
        sift_down(a, 0, n);
    }
    uint32_t h = 0;
    for (int i = 0; i < NSORT; i++) {
        if (i && a[i - 1] > a[i])
            return 0xdeadu;                 /* not sorted: the checksum says so */
        h = h * 31 + a[i];
    }
    return h;
}

static uint32_t matmul_part(void)
{
    for (int i = 0; i < NMAT; i++)
        for (int j = 0; j < NMAT; j++) {
            ma[i][j] = (int32_t)(rnd() & 0xffff) - 0x8000;
            mb[i][j] = (int32_t)(rnd() & 0xfff) - 0x800;
        }
    for (int i = 0; i < NMAT; i++)
        for (int j = 0; j < NMAT; j++) {
            int32_t s = 0;
            for (int k = 0; k < NMAT; k++)
                s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t h = 0;
    for (int i = 0; i < NMAT; i++)
        for (int j = 0; j < NMAT; j++)
            h = rotl(h, 5) ^ (uint32_t)mc[i][j];
    return h;
}

static uint32_t crc_part(void)
{
    for (int i = 0; i < NCRC; i += 4) {
        uint32_t r = rnd();
        bytes[i] = r;
        bytes[i + 1] = r >> 8;
        bytes[i + 2] = r >> 16;
        bytes[i + 3] = r >> 24;
    }
    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < NCRC; i++) {
        crc ^= bytes[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

static uint32_t div_part(void)
{
    uint32_t h = 0;
    for (int i = 0; i < NDIV; i++) {
        uint32_t x = rnd();
        uint32_t d = (rnd() >> (i & 31)) | 1;
        int32_t sx = (int32_t)x, sd = (int32_t)(d | 0x100) * ((i & 1) ? -1 : 1);
        h += x / d + x % d;
        h ^= (uint32_t)(sx / sd) + (uint32_t)(sx % sd);
    }
    return h;
}

int main(void)
{
    uint32_t parts[5] = {0, 0, 0, 0, 0};
    for (int r = 0; r < ROUNDS; r++) {
        parts[0] = rotl(parts[0], 1) ^ hash_part();
        parts[1] = rotl(parts[1], 1) ^ sort_part();
        parts[2] = rotl(parts[2], 1) ^ matmul_part();
        parts[3] = rotl(parts[3], 1) ^ crc_part();
        parts[4] = rotl(parts[4], 1) ^ div_part();
    }
    uint32_t sum = 0;
    static const char *const names[5] = {"hash", "sort", "matmul", "crc32", "div"};
    for (int i = 0; i < 5; i++) {
        printf("%s %08x\n", names[i], parts[i]);
        sum = fmix(sum ^ parts[i]);
    }
    printf("bench rounds %d checksum %08x\n", ROUNDS, sum);
    return 0;
}
