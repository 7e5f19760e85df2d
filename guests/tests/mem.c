/*
 * mem.c - loads and stores (MIPS32 Vol. II), little-endian.
 *
 * In a little-endian CPU the byte at the lowest address is the least significant
 * byte of a word.  The unaligned-access instructions LWL/LWR/SWL/SWR (Vol. II, LWL,
 * LWR, SWL, SWR, whose figures show both byte orders) move the part of a word that
 * lies between the effective address and the end of its aligned word:
 *   LWL: bytes W+0 .. EA into the most significant end of rt;
 *   LWR: bytes EA .. W+3 into the least significant end of rt;
 *   SWL: the most significant bytes of rt into W+0 .. EA;
 *   SWR: the least significant bytes of rt into EA .. W+3;
 * (W = EA with the low two bits cleared).  The tables below spell out every case for
 * memory bytes 11 22 33 44 (the word 0x44332211) and rt = 0xAABBCCDD.
 */
#include "rt.h"

static volatile uint8_t buf[32] __attribute__((aligned(16)));

static void fill(void)
{
    static const uint8_t pattern[16] = {
        0x11, 0x22, 0x33, 0x44, 0x80, 0x01, 0x7f, 0xfe,
        0x01, 0x80, 0xff, 0x7f, 0x55, 0x66, 0x77, 0x88,
    };
    for (int i = 0; i < 32; i++)
        buf[i] = pattern[i & 15];
}

static uint32_t word(int off)
{
    return buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16 | (uint32_t)buf[off + 3] << 24;
}

#define LOAD(op, addr) ({ uint32_t __r; __asm__ __volatile__(op " %0, 0(%1)" \
        : "=r"(__r) : "r"(addr) : "memory"); __r; })
#define LOAD_INTO(op, t, addr) ({ uint32_t __r = (t); __asm__ __volatile__(op " %0, 0(%1)" \
        : "+r"(__r) : "r"(addr) : "memory"); __r; })
#define STORE(op, v, addr) __asm__ __volatile__(op " %0, 0(%1)" \
        :: "r"((uint32_t)(v)), "r"(addr) : "memory")

static void plain(void)
{
    volatile uint8_t *b = buf;
    section("lb/lbu/lh/lhu/lw");
    fill();
    check("lb 0x80", LOAD("lb", b + 4), 0xffffff80);
    check("lbu 0x80", LOAD("lbu", b + 4), 0x80);
    check("lb 0x7f", LOAD("lb", b + 6), 0x7f);
    check("lbu 0xfe", LOAD("lbu", b + 7), 0xfe);
    check("lh 01 80", LOAD("lh", b + 8), 0xffff8001);
    check("lhu 01 80", LOAD("lhu", b + 8), 0x8001);
    check("lh ff 7f", LOAD("lh", b + 10), 0x7fff);
    check("lhu 80 01", LOAD("lhu", b + 4), 0x0180);
    check("lw 11 22 33 44", LOAD("lw", b), 0x44332211);
    check("lw 80 01 7f fe", LOAD("lw", b + 4), 0xfe7f0180);

    section("sb/sh/sw");
    fill();
    STORE("sb", 0xabcdef99, b + 1);
    check("sb stores the low byte", word(0), 0x44339911);
    STORE("sh", 0x1234beef, b + 2);
    check("sh stores the low half", word(0), 0xbeef9911);
    STORE("sw", 0xcafef00d, b + 4);
    check("sw", word(4), 0xcafef00d);
    check("sw leaves neighbours", word(8), 0x7fff8001);
    check("sb readback lbu", LOAD("lbu", b + 1), 0x99);
}

/* One unaligned load/store instruction at buf + k with rt = 0xAABBCCDD beforehand;
 * returns rt (loads) or the memory word (stores). */
#define LWX(op, k) LOAD_INTO(op, 0xaabbccdd, buf + (k))
static uint32_t swx_result(int left, int k)
{
    fill();
    if (left)
        STORE("swl", 0xaabbccdd, buf + k);
    else
        STORE("swr", 0xaabbccdd, buf + k);
    return word(0);
}

static void partial(void)
{
    char name[16] = "lwl +0";
    static const uint32_t lwl_want[4] = { 0x11bbccdd, 0x2211ccdd, 0x332211dd, 0x44332211 };
    static const uint32_t lwr_want[4] = { 0x44332211, 0xaa443322, 0xaabb4433, 0xaabbcc44 };
    static const uint32_t swl_want[4] = { 0x443322aa, 0x4433aabb, 0x44aabbcc, 0xaabbccdd };
    static const uint32_t swr_want[4] = { 0xaabbccdd, 0xbbccdd11, 0xccdd2211, 0xdd332211 };

    section("lwl/lwr/swl/swr at every alignment");
    fill();
    /* each load reads the same memory word at a different byte offset */
    uint32_t lwl_got[4] = { LWX("lwl", 0), LWX("lwl", 1), LWX("lwl", 2), LWX("lwl", 3) };
    uint32_t lwr_got[4] = { LWX("lwr", 0), LWX("lwr", 1), LWX("lwr", 2), LWX("lwr", 3) };
    for (int k = 0; k < 4; k++) {
        name[0] = 'l', name[2] = 'l', name[5] = '0' + k;
        check(name, lwl_got[k], lwl_want[k]);
        name[2] = 'r';
        check(name, lwr_got[k], lwr_want[k]);
        name[0] = 's', name[2] = 'l';
        check(name, swx_result(1, k), swl_want[k]);
        name[2] = 'r';
        check(name, swx_result(0, k), swr_want[k]);
    }

    /* The idioms compilers use: an unaligned word is lwr at A, lwl at A+3 (LE). */
    section("unaligned word idioms");
    for (int a = 1; a < 4; a++) {
        uint32_t v;
        fill();
        __asm__ __volatile__("lwr %0, 0(%1)\n\tlwl %0, 3(%1)" : "=&r"(v) : "r"(buf + a)
                             : "memory");
        char n2[] = "lwr+lwl at +0";
        n2[12] = '0' + a;
        check(n2, v, word(a));
    }
    for (int a = 1; a < 4; a++) {
        fill();
        __asm__ __volatile__("swr %0, 0(%1)\n\tswl %0, 3(%1)" :: "r"(0xa1b2c3d4),
                             "r"(buf + a) : "memory");
        char n2[] = "swr+swl at +0";
        n2[12] = '0' + a;
        check(n2, word(a), 0xa1b2c3d4);
        check("  bytes before unchanged", buf[0], 0x11);
        check("  bytes after unchanged", buf[a + 4], (a + 4 == 5) ? 0x01 :
              (a + 4 == 6) ? 0x7f : 0xfe);
    }
}

static void atomic(void)
{
    volatile uint32_t *w = (volatile uint32_t *)(buf + 16);
    uint32_t old, ok;

    section("ll/sc");
    /* LL; SC with no other memory access in between: the SC succeeds (rt = 1) */
    *w = 41;
    __asm__ __volatile__("ll %0, 0(%2)\n\taddiu %1, %0, 1\n\tsc %1, 0(%2)"
                         : "=&r"(old), "=&r"(ok) : "r"(w) : "memory");
    check("ll reads", old, 41);
    check("sc succeeds", ok, 1);
    check("sc stored", *w, 42);

    /* An ERET between LL and SC makes the SC fail ("the LLbit is cleared by ERET",
     * Vol. II SC, PRA 6.2): a SYSCALL's handler returns with ERET. */
    *w = 100;
    exc_arm();
    __asm__ __volatile__("ll %0, 0(%2)\n\tsyscall\n\taddiu %1, %0, 1\n\tsc %1, 0(%2)"
                         : "=&r"(old), "=&r"(ok) : "r"(w) : "memory");
    exc_disarm();
    check("syscall taken between ll and sc", exc_last.code, EXC_SYS);
    check("sc after eret fails", ok, 0);
    check("sc after eret stores nothing", *w, 100);

    /* and a new LL/SC pair works again */
    __asm__ __volatile__("ll %0, 0(%2)\n\taddiu %1, %0, 5\n\tsc %1, 0(%2)"
                         : "=&r"(old), "=&r"(ok) : "r"(w) : "memory");
    check("sc succeeds again", ok, 1);
    check("sc stored again", *w, 105);
}

static void hints(void)
{
    section("sync/pref/cache/synci (no visible effect)");
    fill();
    exc_arm();
    __asm__ __volatile__(
        "sync\n\t"
        "pref 0, 0(%0)\n\t"          /* load hint */
        "pref 1, 4(%0)\n\t"          /* store hint */
        "cache 0x15, 0(%0)\n\t"      /* Hit_Writeback_Invalidate_D */
        "cache 0x19, 0(%0)\n\t"      /* Hit_Writeback_D */
        "cache 0x10, 0(%0)\n\t"      /* Hit_Invalidate_I */
        "cache 0x01, 0(%0)\n\t"      /* Index_Writeback_Invalidate_D */
        "cache 0x00, 0(%0)\n\t"      /* Index_Invalidate_I */
        "synci 0(%0)\n\t"
        "sync\n\t"
        :: "r"(buf) : "memory");
    exc_disarm();
    check_no_exc("sync/pref/cache/synci");
    check("memory unchanged", word(0), 0x44332211);
}

/* A misaligned LW/LH/SH/SW is an Address Error (PRA 6.2 "Address Error
 * Exception"): AdEL for loads, AdES for stores, BadVAddr = the address, rt and
 * memory untouched. */
#define BAD_LOAD(name, op, off) do {                                               \
        uint32_t pc, d = 0x5eed5eed, addr = (uint32_t)buf + (off);                \
        TRY(pc, op " %[d], 0(%[a])", [d] "+r"(d) : [a] "r"(addr));                \
        check_exc(name, EXC_ADEL, pc, 0);                                          \
        check_addr(name ".badvaddr", exc_last.badvaddr, addr);                     \
        check(name ".rt_unchanged", d, 0x5eed5eed);                                \
    } while (0)
#define BAD_STORE(name, op, off) do {                                              \
        uint32_t pc, addr = (uint32_t)buf + (off);                                \
        fill();                                                                    \
        TRY(pc, op " %[v], 0(%[a])", [a] "+r"(addr) : [v] "r"(0));                \
        check_exc(name, EXC_ADES, pc, 0);                                          \
        check_addr(name ".badvaddr", exc_last.badvaddr, addr);                     \
        check(name ".memory_unchanged", word(0) ^ word(4), 0x44332211 ^ 0xfe7f0180); \
    } while (0)

static void misaligned(void)
{
    section("address errors");
    fill();
    BAD_LOAD("lw +1", "lw", 1);
    BAD_LOAD("lw +2", "lw", 2);
    BAD_LOAD("lw +3", "lw", 3);
    BAD_LOAD("lh +1", "lh", 1);
    BAD_LOAD("lhu +3", "lhu", 3);
    BAD_LOAD("ll +2", "ll", 2);
    BAD_STORE("sw +1", "sw", 1);
    BAD_STORE("sw +2", "sw", 2);
    BAD_STORE("sh +1", "sh", 1);
    BAD_STORE("sh +3", "sh", 3);
}

int main(void)
{
    plain();
    partial();
    atomic();
    hints();
    misaligned();
    return check_summary();
}
