/*
 * branch.c - branches and jumps, their delay slots and link registers (MIPS32
 * Vol. II; the functions under test are in branch_s.S, which explains the bit masks
 * they return: 5 = taken, 3 = not taken, 2 = branch-likely not taken).
 */
#include "rt.h"

#define TAKEN 5
#define NOT_TAKEN 3
#define NULLIFIED 2

uint32_t br_beq(uint32_t, uint32_t), br_bne(uint32_t, uint32_t);
uint32_t br_blez(uint32_t), br_bgtz(uint32_t), br_bltz(uint32_t), br_bgez(uint32_t);
uint32_t br_beql(uint32_t, uint32_t), br_bnel(uint32_t, uint32_t);
uint32_t br_blezl(uint32_t), br_bgtzl(uint32_t), br_bltzl(uint32_t), br_bgezl(uint32_t);
uint32_t br_bltzal(uint32_t, uint32_t *), br_bgezal(uint32_t, uint32_t *);
uint32_t br_bltzall(uint32_t, uint32_t *), br_bgezall(uint32_t, uint32_t *);
uint32_t br_beq_slot_changes_operand(uint32_t, uint32_t), br_loop(uint32_t);
uint32_t jmp_j(void), jmp_jr(void), jmp_jr_hb(void);
uint32_t jmp_jal(uint32_t *), jmp_jalr(uint32_t *), jmp_jalr_rd(uint32_t *);
uint32_t jmp_jalr_hb(uint32_t *), jmp_bal(uint32_t *), jmp_call(uint32_t);

static void link_branch(const char *name, uint32_t (*fn)(uint32_t, uint32_t *),
                        uint32_t a, uint32_t want)
{
    uint32_t link[2] = { 0, 1 };
    check(name, fn(a, link), want);
    check_addr("  link = branch + 8", link[0], link[1]);
}

static void link_jump(const char *name, uint32_t (*fn)(uint32_t *), uint32_t want)
{
    uint32_t link[3] = { 0, 1, 2 };
    check(name, fn(link), want);
    check_addr("  link = jump + 8", link[0], link[1]);
    check_addr("  delay slot sees the link", link[2], link[1]);
}

int main(void)
{
    section("conditional branches");
    check("beq 5,5", br_beq(5, 5), TAKEN);
    check("beq 5,6", br_beq(5, 6), NOT_TAKEN);
    check("bne 5,6", br_bne(5, 6), TAKEN);
    check("bne 5,5", br_bne(5, 5), NOT_TAKEN);
    check("blez 0", br_blez(0), TAKEN);
    check("blez -1", br_blez(-1), TAKEN);
    check("blez 1", br_blez(1), NOT_TAKEN);
    check("bgtz 1", br_bgtz(1), TAKEN);
    check("bgtz 0", br_bgtz(0), NOT_TAKEN);
    check("bgtz 0x80000000", br_bgtz(0x80000000), NOT_TAKEN);
    check("bltz -1", br_bltz(-1), TAKEN);
    check("bltz 0", br_bltz(0), NOT_TAKEN);
    check("bltz 0x7fffffff", br_bltz(0x7fffffff), NOT_TAKEN);
    check("bgez 0", br_bgez(0), TAKEN);
    check("bgez 0x7fffffff", br_bgez(0x7fffffff), TAKEN);
    check("bgez -1", br_bgez(-1), NOT_TAKEN);
    check("beq sees operands before its delay slot", br_beq_slot_changes_operand(7, 7), 4);
    check("backward bne loop x5", br_loop(5), 5);

    section("branch likely (delay slot nullified when not taken)");
    check("beql 5,5", br_beql(5, 5), TAKEN);
    check("beql 5,6", br_beql(5, 6), NULLIFIED);
    check("bnel 5,6", br_bnel(5, 6), TAKEN);
    check("bnel 5,5", br_bnel(5, 5), NULLIFIED);
    check("blezl 0", br_blezl(0), TAKEN);
    check("blezl 1", br_blezl(1), NULLIFIED);
    check("bgtzl 1", br_bgtzl(1), TAKEN);
    check("bgtzl -1", br_bgtzl(-1), NULLIFIED);
    check("bltzl -5", br_bltzl(-5), TAKEN);
    check("bltzl 5", br_bltzl(5), NULLIFIED);
    check("bgezl 5", br_bgezl(5), TAKEN);
    check("bgezl -5", br_bgezl(-5), NULLIFIED);

    section("branch and link (ra = branch + 8, taken or not)");
    link_branch("bltzal -1", br_bltzal, -1, TAKEN);
    link_branch("bltzal 1", br_bltzal, 1, NOT_TAKEN);
    link_branch("bgezal 0", br_bgezal, 0, TAKEN);
    link_branch("bgezal -1", br_bgezal, -1, NOT_TAKEN);
    link_branch("bltzall -1", br_bltzall, -1, TAKEN);
    link_branch("bltzall 1", br_bltzall, 1, NULLIFIED);
    link_branch("bgezall 1", br_bgezall, 1, TAKEN);
    link_branch("bgezall -1", br_bgezall, -1, NULLIFIED);

    section("jumps");
    check("j", jmp_j(), TAKEN);
    check("jr (delay slot changes the register)", jmp_jr(), 4 | 8 | 16);
    check("jr.hb", jmp_jr_hb(), TAKEN);
    link_jump("jal", jmp_jal, 4);
    link_jump("jalr", jmp_jalr, 4);
    link_jump("jalr rd", jmp_jalr_rd, 4);
    link_jump("jalr.hb", jmp_jalr_hb, 4);
    link_jump("bal", jmp_bal, 4);
    check("jal/jr ra call and return", jmp_call(20), 41);

    return check_summary();
}
