/*
 * matmul.c - parallel integer matrix multiply C = A B, rows of C divided among CPUs.
 *
 * MATMUL_N x MATMUL_N (default 128) 32-bit integers between -128 and 127, so that
 * the entries of C fit in 32 bits.  The product
 * is checked with Freivalds' test: C r = A (B r) for a vector r, which costs
 * O(n^2) instead of the O(n^3) of the product.  It is computed modulo 2^32
 * (unsigned arithmetic), where the identity holds as it does in any ring.
 */
#include "thinos.h"

#ifndef MATMUL_N
#define MATMUL_N 128
#endif
#define N MATMUL_N

static int32_t *A, *B, *C;
static uint32_t *r, *Br;                    /* Freivalds' vector and B r */
static uint32_t *sums;                      /* per CPU: checksum, errors (one line each) */
#define SUMS_STRIDE (THIN_LINE / 4)

static uint32_t hash(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/* Small signed entries, from their position. */
static int32_t entry(uint32_t salt, uint32_t i, uint32_t j)
{
    return (int32_t)(hash(salt ^ (i * N + j)) & 0xFF) - 128;
}

int thin_main(int cpu, int ncpus)
{
    if (cpu == 0) {
        A = thin_alloc(N * N * sizeof *A);
        B = thin_alloc(N * N * sizeof *B);
        C = thin_alloc(N * N * sizeof *C);
        r = thin_alloc(N * sizeof *r);
        Br = thin_alloc(N * sizeof *Br);
        sums = thin_alloc(ncpus * THIN_LINE);
        thin_printf("matmul: %ux%u integer matrices\n", N, N);
    }
    thin_barrier();

    int lo = cpu * N / ncpus, hi = (cpu + 1) * N / ncpus;

    /* This CPU's rows of A, B and r. */
    for (int i = lo; i < hi; i++) {
        for (int j = 0; j < N; j++) {
            A[i * N + j] = entry(0x1234, i, j);
            B[i * N + j] = entry(0xABCD, i, j);
        }
        r[i] = hash((uint32_t)i + 0x5555);
    }
    thin_barrier();

    /* C = A B, row by row: for each k, add A[i][k] times row k of B, so that the
     * inner loop walks B and C sequentially. */
    for (int i = lo; i < hi; i++) {
        int32_t *c = &C[i * N];
        for (int j = 0; j < N; j++)
            c[j] = 0;
        for (int k = 0; k < N; k++) {
            int32_t a = A[i * N + k];
            const int32_t *b = &B[k * N];
            for (int j = 0; j < N; j++)
                c[j] += a * b[j];
        }
    }

    /* Freivalds: first B r (this CPU's rows), then, after a barrier, compare
     * (C r)[i] with (A (B r))[i] for this CPU's rows i. */
    for (int i = lo; i < hi; i++) {
        uint32_t s = 0;
        for (int j = 0; j < N; j++)
            s += (uint32_t)B[i * N + j] * r[j];
        Br[i] = s;
    }
    thin_barrier();

    uint32_t checksum = 0, errors = 0;
    for (int i = lo; i < hi; i++) {
        uint32_t cr = 0, abr = 0;
        for (int j = 0; j < N; j++) {
            cr += (uint32_t)C[i * N + j] * r[j];
            abr += (uint32_t)A[i * N + j] * Br[j];
            checksum += (uint32_t)C[i * N + j] * (uint32_t)(i * N + j + 1);
        }
        errors += cr != abr;
    }
    sums[cpu * SUMS_STRIDE] = checksum;
    sums[cpu * SUMS_STRIDE + 1] = errors;
    thin_barrier();

    if (cpu != 0)
        return 0;
    checksum = errors = 0;
    for (int c = 0; c < ncpus; c++) {
        checksum += sums[c * SUMS_STRIDE];
        errors += sums[c * SUMS_STRIDE + 1];
    }
    thin_printf("C[0][0] = %d, C[%u][%u] = %d, C[%u][%u] = %d\n", C[0], N / 2, N / 3,
                C[(N / 2) * N + N / 3], N - 1, N - 1, C[N * N - 1]);
    thin_printf("checksum (sum of C[i][j] * (i*N + j + 1)): %08x\n", checksum);
    thin_printf("Freivalds check C r = A (B r): %u of %u rows differ\n", errors, N);
    thin_printf("matmul: %s\n", errors ? "FAILED" : "ok");
    return errors ? 1 : 0;
}
