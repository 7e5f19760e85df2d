/*
 * muldiv.c - multiply/divide unit (HI/LO), and the Release 2 bit-field and
 * byte-swap instructions (MIPS32 Vol. II).
 *
 * MULT/MULTU put the 64-bit product in HI:LO; DIV/DIVU put the quotient in LO and
 * the remainder in HI (results for a zero divisor are UNPREDICTABLE: not tested).
 * MADD/MADDU/MSUB/MSUBU add the product to / subtract it from HI:LO.  MUL writes
 * the low 32 bits of the product to a GPR and leaves HI/LO UNPREDICTABLE (Vol. II,
 * MUL): they are not checked after it.
 */
#include "rt.h"

struct hilo { uint32_t hi, lo; };

/* HI:LO = (hi, lo), then "op rs, rt", then read HI and LO. */
#define ACC(op, h, l, a, b) ({ struct hilo __r;                                   \
        __asm__ __volatile__("mthi %2\n\tmtlo %3\n\t" op " %4, %5\n\t"           \
                             "mfhi %0\n\tmflo %1"                                 \
                             : "=&r"(__r.hi), "=&r"(__r.lo)                       \
                             : "r"((uint32_t)(h)), "r"((uint32_t)(l)),            \
                               "r"((uint32_t)(a)), "r"((uint32_t)(b)));           \
        __r; })
#define RR(op, a, b) ({ uint32_t __r; __asm__ __volatile__(op " %0, %1, %2" \
        : "=r"(__r) : "r"((uint32_t)(a)), "r"((uint32_t)(b))); __r; })
#define R1(op, a) ({ uint32_t __r; __asm__ __volatile__(op " %0, %1" \
        : "=r"(__r) : "r"((uint32_t)(a))); __r; })
/* EXT rt, rs, pos, size   and   INS rt, rs, pos, size (rt is also an input) */
#define EXT(a, pos, size) ({ uint32_t __r; __asm__ __volatile__("ext %0, %1, %2, %3" \
        : "=r"(__r) : "r"((uint32_t)(a)), "i"(pos), "i"(size)); __r; })
#define INS(t, a, pos, size) ({ uint32_t __r = (t); __asm__ __volatile__("ins %0, %1, %2, %3" \
        : "+r"(__r) : "r"((uint32_t)(a)), "i"(pos), "i"(size)); __r; })
/* MOVN/MOVZ rd, rs, rt: rd is also an input (kept when the condition fails) */
#define MOV(op, d, a, t) ({ uint32_t __r = (d); __asm__ __volatile__(op " %0, %1, %2" \
        : "+r"(__r) : "r"((uint32_t)(a)), "r"((uint32_t)(t))); __r; })

static void check_hilo(const char *name, struct hilo got, uint32_t hi, uint32_t lo)
{
    char buf[64];
    int n = 0;
    while (name[n] && n < 56) {
        buf[n] = name[n];
        n++;
    }
    buf[n] = '.', buf[n + 1] = 'h', buf[n + 2] = 'i', buf[n + 3] = 0;
    check(buf, got.hi, hi);
    buf[n + 1] = 'l', buf[n + 2] = 'o';
    check(buf, got.lo, lo);
}

static void multiply(void)
{
    section("mult/multu");
    check_hilo("mult 3*7", ACC("mult", 0, 0, 3, 7), 0, 21);
    check_hilo("mult -3*7", ACC("mult", 0, 0, -3, 7), 0xffffffff, 0xffffffeb);
    check_hilo("mult 0x80000000*2", ACC("mult", 0, 0, 0x80000000, 2), 0xffffffff, 0);
    check_hilo("mult 0x80000000*0x80000000", ACC("mult", 0, 0, 0x80000000, 0x80000000),
               0x40000000, 0);
    check_hilo("mult -1*-1", ACC("mult", 0, 0, -1, -1), 0, 1);
    check_hilo("multu 0xffffffff*0xffffffff", ACC("multu", 0, 0, 0xffffffff, 0xffffffff),
               0xfffffffe, 0x00000001);
    check_hilo("multu 0x80000000*2", ACC("multu", 0, 0, 0x80000000, 2), 1, 0);
    check_hilo("multu 0x12345678*0x10", ACC("multu", 5, 5, 0x12345678, 0x10), 1, 0x23456780);

    section("div/divu");
    /* quotient rounds toward zero; the remainder has the dividend's sign */
    check_hilo("div 7/2", ACC("div $0,", 0, 0, 7, 2), 1, 3);
    check_hilo("div -7/2", ACC("div $0,", 0, 0, -7, 2), 0xffffffff, 0xfffffffd);
    check_hilo("div 7/-2", ACC("div $0,", 0, 0, 7, -2), 1, 0xfffffffd);
    check_hilo("div -7/-2", ACC("div $0,", 0, 0, -7, -2), 0xffffffff, 3);
    check_hilo("divu 0xffffffff/16", ACC("divu $0,", 0, 0, 0xffffffff, 16), 15, 0x0fffffff);
    check_hilo("divu 0x80000000/0xffffffff", ACC("divu $0,", 0, 0, 0x80000000, 0xffffffff),
               0x80000000, 0);
    check_hilo("div 0x80000000/2", ACC("div $0,", 0, 0, 0x80000000, 2), 0, 0xc0000000);

    section("mthi/mtlo/mfhi/mflo");
    /* "multu $0,$0" would clobber HI/LO; "and $0,$0" is a do-nothing instruction */
    check_hilo("mthi/mtlo round trip", ACC("and $0,", 0xdeadbeef, 0x01234567, 0, 0),
               0xdeadbeef, 0x01234567);

    section("madd/maddu/msub/msubu/mul");
    check_hilo("madd 2*3 + 0x1ffffffff", ACC("madd", 1, 0xffffffff, 2, 3), 2, 5);
    check_hilo("madd -1*1 + 0", ACC("madd", 0, 0, -1, 1), 0xffffffff, 0xffffffff);
    check_hilo("madd -2*3 + 6", ACC("madd", 0, 6, -2, 3), 0, 0);
    check_hilo("maddu 0xffffffff^2 + 0x100000000",
               ACC("maddu", 1, 0, 0xffffffff, 0xffffffff), 0xffffffff, 0x00000001);
    check_hilo("maddu wraps at 2^64", ACC("maddu", 0xffffffff, 0xffffffff, 1, 1), 0, 0);
    check_hilo("msub 0 - 2*3", ACC("msub", 0, 0, 2, 3), 0xffffffff, 0xfffffffa);
    check_hilo("msub 5 - -1*3", ACC("msub", 0, 5, -1, 3), 0, 8);
    check_hilo("msubu 0x100000000 - 0xffffffff*1",
               ACC("msubu", 1, 0, 0xffffffff, 1), 0, 1);
    check_hilo("msubu 0 - 1*1", ACC("msubu", 0, 0, 1, 1), 0xffffffff, 0xffffffff);
    check("mul 0x10000*0x10000", RR("mul", 0x10000, 0x10000), 0);
    check("mul -3*7", RR("mul", -3, 7), 0xffffffeb);
    check("mul 0x12345*0x100", RR("mul", 0x12345, 0x100), 0x01234500);
    check("mul 0x7fffffff*-1", RR("mul", 0x7fffffff, -1), 0x80000001);
}

static void bits(void)
{
    section("clz/clo");
    check("clz 0", R1("clz", 0), 32);
    check("clz 1", R1("clz", 1), 31);
    check("clz 0x80000000", R1("clz", 0x80000000), 0);
    check("clz 0x00f00000", R1("clz", 0x00f00000), 8);
    check("clo 0xffffffff", R1("clo", 0xffffffff), 32);
    check("clo 0xf0000000", R1("clo", 0xf0000000), 4);
    check("clo 0", R1("clo", 0), 0);
    check("clo 0xfffffffe", R1("clo", 0xfffffffe), 31);

    section("ext/ins");
    check("ext 0x12345678,4,8", EXT(0x12345678, 4, 8), 0x67);
    check("ext 0x12345678,0,32", EXT(0x12345678, 0, 32), 0x12345678);
    check("ext 0x80000000,31,1", EXT(0x80000000, 31, 1), 1);
    check("ext 0x12345678,16,16", EXT(0x12345678, 16, 16), 0x1234);
    check("ext 0xffffffff,3,5", EXT(0xffffffff, 3, 5), 0x1f);
    check("ins 0xffffffff,0x12,8,8", INS(0xffffffff, 0x12, 8, 8), 0xffff12ff);
    check("ins 0,0xabcd,16,16", INS(0, 0xabcd, 16, 16), 0xabcd0000);
    check("ins 0x12345678,0xffffffff,0,1", INS(0x12345678, 0xffffffff, 0, 1), 0x12345679);
    check("ins 0,0x87654321,0,32", INS(0, 0x87654321, 0, 32), 0x87654321);
    check("ins 0x00000000,0x5,31,1", INS(0, 5, 31, 1), 0x80000000);

    section("seb/seh/wsbh");
    check("seb 0x80", R1("seb", 0x80), 0xffffff80);
    check("seb 0x1234567f", R1("seb", 0x1234567f), 0x7f);
    check("seh 0x8000", R1("seh", 0x8000), 0xffff8000);
    check("seh 0x12347fff", R1("seh", 0x12347fff), 0x7fff);
    check("wsbh 0x11223344", R1("wsbh", 0x11223344), 0x22114433);
    /* WSBH + ROTR 16 is the usual 32-bit byte swap */
    uint32_t swapped;
    __asm__ __volatile__("wsbh %0, %1\n\trotr %0, %0, 16" : "=&r"(swapped) : "r"(0x11223344));
    check("wsbh+rotr byte swap", swapped, 0x44332211);

    section("movn/movz");
    check("movn taken", MOV("movn", 1, 2, 3), 2);
    check("movn not taken", MOV("movn", 1, 2, 0), 1);
    check("movz taken", MOV("movz", 1, 2, 0), 2);
    check("movz not taken", MOV("movz", 1, 2, 0x80000000), 1);
}

int main(void)
{
    multiply();
    bits();
    return check_summary();
}
