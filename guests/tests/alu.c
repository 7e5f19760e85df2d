/*
 * alu.c - integer arithmetic, logic and shifts (MIPS32 Vol. II, "MIPS32 Instruction
 * Set", one entry per instruction).  Expected values are worked out from the
 * instruction descriptions, not taken from a simulator.
 *
 * ADD, ADDI and SUB raise Integer Overflow (ExcCode Ov = 12) when the 32-bit two's
 * complement result overflows, and then "the destination register is not modified"
 * (Vol. II, ADD).  ADDU/ADDIU/SUBU never trap.
 */
#include "rt.h"

/* rd = op(rs, rt) and rd = op(rs, immediate) */
#define RR(op, a, b) ({ uint32_t __r; __asm__ __volatile__(op " %0, %1, %2" \
        : "=r"(__r) : "r"((uint32_t)(a)), "r"((uint32_t)(b))); __r; })
#define RI(op, a, imm) ({ uint32_t __r; __asm__ __volatile__(op " %0, %1, %2" \
        : "=r"(__r) : "r"((uint32_t)(a)), "i"(imm)); __r; })
#define LUI(imm) ({ uint32_t __r; __asm__ __volatile__("lui %0, %1" : "=r"(__r) : "i"(imm)); __r; })

#define SENTINEL 0x5eed5eedu

/* Run "op d, a, b" that must overflow: d keeps its old value, Ov at the instruction. */
#define OVERFLOW_RR(name, op, a, b) do {                                         \
        uint32_t d = SENTINEL, pc, x = (a), y = (b);                            \
        TRY(pc, op " %[d], %[x], %[y]", [d] "+r"(d) : [x] "r"(x), [y] "r"(y));  \
        check_exc(name, EXC_OV, pc, 0);                                          \
        check(name ".rd_unchanged", d, SENTINEL);                                \
    } while (0)
#define OVERFLOW_RI(name, op, a, imm) do {                                       \
        uint32_t d = SENTINEL, pc, x = (a);                                     \
        TRY(pc, op " %[d], %[x], %[i]", [d] "+r"(d) : [x] "r"(x), [i] "i"(imm)); \
        check_exc(name, EXC_OV, pc, 0);                                          \
        check(name ".rt_unchanged", d, SENTINEL);                                \
    } while (0)
#define NO_OVERFLOW_RR(name, op, a, b, want) do {                                \
        uint32_t d = SENTINEL, pc, x = (a), y = (b);                            \
        TRY(pc, op " %[d], %[x], %[y]", [d] "+r"(d) : [x] "r"(x), [y] "r"(y));  \
        (void)pc;                                                                \
        check_no_exc(name);                                                      \
        check(name ".result", d, want);                                          \
    } while (0)

static void arithmetic(void)
{
    section("add/addu/sub/subu/addi/addiu");
    check("addu 0xffffffff+1", RR("addu", 0xffffffff, 1), 0);
    check("addu 0x7fffffff+1", RR("addu", 0x7fffffff, 1), 0x80000000);
    check("add 5+7", RR("add", 5, 7), 12);
    check("add -1+1", RR("add", -1, 1), 0);
    check("add -5+-7", RR("add", -5, -7), (uint32_t)-12);
    check("addiu 0x7fffffff+1", RI("addiu", 0x7fffffff, 1), 0x80000000);
    check("addiu 0+-1", RI("addiu", 0, -1), 0xffffffff);
    check("addiu 0x8000+0x7fff", RI("addiu", 0x8000, 0x7fff), 0xffff);
    check("addi 5+-7", RI("addi", 5, -7), (uint32_t)-2);
    check("subu 0-1", RR("subu", 0, 1), 0xffffffff);
    check("subu 0x80000000-1", RR("subu", 0x80000000, 1), 0x7fffffff);
    check("sub 3-5", RR("sub", 3, 5), (uint32_t)-2);
    check("sub -1-0x7fffffff", RR("sub", -1, 0x7fffffff), 0x80000000);

    section("integer overflow (Ov)");
    OVERFLOW_RR("add 0x7fffffff+1", "add", 0x7fffffff, 1);
    OVERFLOW_RR("add 0x80000000+0xffffffff", "add", 0x80000000, 0xffffffff);
    OVERFLOW_RR("add 0x40000000+0x40000000", "add", 0x40000000, 0x40000000);
    OVERFLOW_RI("addi 0x7fffffff+1", "addi", 0x7fffffff, 1);
    OVERFLOW_RI("addi 0x80000000+-1", "addi", 0x80000000, -1);
    OVERFLOW_RR("sub 0x80000000-1", "sub", 0x80000000, 1);
    OVERFLOW_RR("sub 0x7fffffff-0xffffffff", "sub", 0x7fffffff, 0xffffffff);
    OVERFLOW_RR("sub 0-0x80000000", "sub", 0, 0x80000000);
    NO_OVERFLOW_RR("add 0x7fffffff+0xffffffff", "add", 0x7fffffff, 0xffffffff, 0x7ffffffe);
    NO_OVERFLOW_RR("sub -1-0x80000000", "sub", 0xffffffff, 0x80000000, 0x7fffffff);
    NO_OVERFLOW_RR("addu 0x7fffffff+1", "addu", 0x7fffffff, 1, 0x80000000);
    NO_OVERFLOW_RR("subu 0x80000000-1", "subu", 0x80000000, 1, 0x7fffffff);
}

static void logic(void)
{
    section("logic");
    check("and", RR("and", 0xff00ff00, 0x0ff00ff0), 0x0f000f00);
    check("or", RR("or", 0xff00ff00, 0x0ff00ff0), 0xfff0fff0);
    check("xor", RR("xor", 0xff00ff00, 0x0ff00ff0), 0xf0f0f0f0);
    check("nor", RR("nor", 0xff00ff00, 0x0ff00ff0), 0x000f000f);
    check("nor 0,0", RR("nor", 0, 0), 0xffffffff);
    /* ANDI/ORI/XORI zero-extend their immediate */
    check("andi 0xffffffff,0x8000", RI("andi", 0xffffffff, 0x8000), 0x8000);
    check("andi 0x12345678,0xffff", RI("andi", 0x12345678, 0xffff), 0x5678);
    check("ori 0x12340000,0xffff", RI("ori", 0x12340000, 0xffff), 0x1234ffff);
    check("xori 0xffffffff,0x8001", RI("xori", 0xffffffff, 0x8001), 0xffff7ffe);
    check("lui 0x1234", LUI(0x1234), 0x12340000);
    check("lui 0xffff", LUI(0xffff), 0xffff0000);

    section("set on less than");
    check("slt -1<1", RR("slt", -1, 1), 1);
    check("slt 1<-1", RR("slt", 1, -1), 0);
    check("slt 5<5", RR("slt", 5, 5), 0);
    check("sltu 0xffffffff<1", RR("sltu", 0xffffffff, 1), 0);
    check("sltu 1<0xffffffff", RR("sltu", 1, 0xffffffff), 1);
    check("slt 0x80000000<0x7fffffff", RR("slt", 0x80000000, 0x7fffffff), 1);
    /* SLTI sign-extends; SLTIU sign-extends too, then compares unsigned */
    check("slti 5<-1", RI("slti", 5, -1), 0);
    check("slti -2<-1", RI("slti", -2, -1), 1);
    check("sltiu 5<0xffffffff", RI("sltiu", 5, -1), 1);
    check("sltiu 0xffffffff<0xffffffff", RI("sltiu", 0xffffffff, -1), 0);
    check("sltiu 0xffff8000<0xffff8001", RI("sltiu", 0xffff8000, -32767), 1);
    check("sltiu 0x8000<0xffff8000", RI("sltiu", 0x8000, -32768), 1);
}

static void shifts(void)
{
    section("shifts");
    check("sll 1,31", RI("sll", 1, 31), 0x80000000);
    check("sll 0x12345678,4", RI("sll", 0x12345678, 4), 0x23456780);
    check("srl 0x80000000,31", RI("srl", 0x80000000, 31), 1);
    check("srl 0x87654321,8", RI("srl", 0x87654321, 8), 0x00876543);
    check("sra 0x80000000,31", RI("sra", 0x80000000, 31), 0xffffffff);
    check("sra 0x87654321,8", RI("sra", 0x87654321, 8), 0xff876543);
    check("sra 0x47654321,8", RI("sra", 0x47654321, 8), 0x00476543);
    check("sll 0x12345678,0", RI("sll", 0x12345678, 0), 0x12345678);
    /* variable shifts use the low five bits of rs only: SLLV rd, rt, rs */
    check("sllv 1,33", RR("sllv", 1, 33), 2);
    check("sllv 0x12345678,36", RR("sllv", 0x12345678, 36), 0x23456780);
    check("srlv 0x80000000,63", RR("srlv", 0x80000000, 63), 1);
    check("srlv 0x87654321,32", RR("srlv", 0x87654321, 32), 0x87654321);
    check("srav 0x80000000,4", RR("srav", 0x80000000, 4), 0xf8000000);
    check("srav 0x80000000,0xffffffff", RR("srav", 0x80000000, 0xffffffff), 0xffffffff);
    /* Release 2 rotates */
    check("rotr 0x12345678,8", RI("rotr", 0x12345678, 8), 0x78123456);
    check("rotr 0x12345678,0", RI("rotr", 0x12345678, 0), 0x12345678);
    check("rotr 0x80000001,1", RI("rotr", 0x80000001, 1), 0xc0000000);
    check("rotr 0x12345678,31", RI("rotr", 0x12345678, 31), 0x2468acf0);
    check("rotrv 0x12345678,4", RR("rotrv", 0x12345678, 4), 0x81234567);
    check("rotrv 0x12345678,36", RR("rotrv", 0x12345678, 36), 0x81234567);
    check("rotrv 0x12345678,32", RR("rotrv", 0x12345678, 32), 0x12345678);
}

static void zero_register(void)
{
    section("register zero");
    uint32_t r;
    /* Writes to $0 are discarded (Vol. I, 2.6.1 "CPU General-Purpose Registers") */
    __asm__ __volatile__("addiu $0, $0, 5\n\taddu %0, $0, $0" : "=r"(r));
    check("$0 stays zero", r, 0);
}

int main(void)
{
    arithmetic();
    logic();
    shifts();
    zero_register();
    return check_summary();
}
