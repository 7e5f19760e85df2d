/*
 * traps.c - synchronous exceptions (PRA 6.2; MIPS32 Vol. II for the instructions):
 * conditional traps (Tr), SYSCALL (Sys), BREAK (Bp), reserved instructions (RI),
 * coprocessor unusable (CpU, with Cause.CE), and an exception in a branch delay slot
 * (Cause.BD = 1, EPC = the branch).
 */
#include "rt.h"

/* "op a, b" traps (want = 1) or not (want = 0) */
#define TRAP_RR(name, op, a, b, want) do {                                         \
        uint32_t pc, x = (a), y = (b);                                            \
        TRY(pc, op " %[x], %[y]", [x] "+r"(x) : [y] "r"(y));                       \
        if (want) check_exc(name, EXC_TR, pc, 0); else check_no_exc(name);         \
    } while (0)
#define TRAP_RI(name, op, a, imm, want) do {                                       \
        uint32_t pc, x = (a);                                                     \
        TRY(pc, op " %[x], %[i]", [x] "+r"(x) : [i] "i"(imm));                     \
        if (want) check_exc(name, EXC_TR, pc, 0); else check_no_exc(name);         \
    } while (0)

static void traps(void)
{
    section("trap on condition (Tr)");
    TRAP_RR("teq 5,5", "teq", 5, 5, 1);
    TRAP_RR("teq 5,6", "teq", 5, 6, 0);
    TRAP_RR("tne 5,6", "tne", 5, 6, 1);
    TRAP_RR("tne 5,5", "tne", 5, 5, 0);
    TRAP_RR("tge 1,-1 (signed)", "tge", 1, -1, 1);
    TRAP_RR("tge -1,1 (signed)", "tge", -1, 1, 0);
    TRAP_RR("tge 3,3", "tge", 3, 3, 1);
    TRAP_RR("tgeu 0xffffffff,1", "tgeu", 0xffffffff, 1, 1);
    TRAP_RR("tgeu 1,0xffffffff", "tgeu", 1, 0xffffffff, 0);
    TRAP_RR("tlt -1,1 (signed)", "tlt", -1, 1, 1);
    TRAP_RR("tlt 1,-1 (signed)", "tlt", 1, -1, 0);
    TRAP_RR("tlt 3,3", "tlt", 3, 3, 0);
    TRAP_RR("tltu 1,0xffffffff", "tltu", 1, 0xffffffff, 1);
    TRAP_RR("tltu 0xffffffff,1", "tltu", 0xffffffff, 1, 0);

    section("trap on condition, immediate (sign-extended)");
    TRAP_RI("teqi -1,-1", "teqi", -1, -1, 1);
    TRAP_RI("teqi 0xffff,-1", "teqi", 0xffff, -1, 0);
    TRAP_RI("tnei 0,1", "tnei", 0, 1, 1);
    TRAP_RI("tnei 1,1", "tnei", 1, 1, 0);
    TRAP_RI("tgei 0,-5", "tgei", 0, -5, 1);
    TRAP_RI("tgei -6,-5", "tgei", -6, -5, 0);
    TRAP_RI("tgeiu 0xffffffff,-1", "tgeiu", 0xffffffff, -1, 1);
    TRAP_RI("tgeiu 0x7fffffff,-1", "tgeiu", 0x7fffffff, -1, 0);
    TRAP_RI("tlti -5,-1", "tlti", -5, -1, 1);
    TRAP_RI("tlti 0,-1", "tlti", 0, -1, 0);
    TRAP_RI("tltiu 5,-1 (0xffffffff)", "tltiu", 5, -1, 1);
    TRAP_RI("tltiu 0xffff8000,-32768", "tltiu", 0xffff8000, -32768, 0);
    TRAP_RI("tltiu 0xffff7fff,-32768", "tltiu", 0xffff7fff, -32768, 1);
}

static void syscall_break(void)
{
    uint32_t pc, d = 0;

    section("syscall/break");
    TRY(pc, "syscall", [d] "+r"(d) :);
    check_exc("syscall", EXC_SYS, pc, 0);
    TRY(pc, "syscall 0x12345", [d] "+r"(d) :);
    check_exc("syscall with code", EXC_SYS, pc, 0);
    TRY(pc, "break", [d] "+r"(d) :);
    check_exc("break", EXC_BP, pc, 0);
    TRY(pc, "break 7", [d] "+r"(d) :);
    check_exc("break 7", EXC_BP, pc, 0);
    /* the code field of SYSCALL is only read by software, from the instruction */
    TRY(pc, "syscall 0x54321", [d] "+r"(d) :);
    check("syscall code field", (*(uint32_t *)exc_last.epc >> 6) & 0xfffff, 0x54321);
}

/* Instructions that do not exist in MIPS32 Release 2 (Vol. II, table A.2 and
 * friends: "*" = reserved, "beta" = 64-bit only, RI on a 32-bit CPU). */
static void reserved(void)
{
    uint32_t pc, d = 0;

    section("reserved instructions (RI)");
    /* SPECIAL function 5 is reserved in MIPS32 Release 2 (LSA only in Release 6).
     * QEMU DEVIATION: without MIPS_STRICT_STANDARD QEMU decodes it as a "PMON"
     * monitor call and executes it as a no-op instead of raising RI
     * (target/mips/tcg/translate.c, OPC_LSA / "PMON / selsl").  The manual wins:
     * tests/test_guests.py lists this line as a known QEMU difference. */
    TRY(pc, ".word 0x00000005", [d] "+r"(d) :);
    check_exc("SPECIAL funct 0x05 [qemu differs]", EXC_RI, pc, 0);
    TRY(pc, ".word 0x0000002c", [d] "+r"(d) :);       /* DADD (64-bit only) */
    check_exc("dadd (MIPS64 only)", EXC_RI, pc, 0);
    TRY(pc, ".word 0x60000000", [d] "+r"(d) :);       /* DADDI (64-bit only) */
    check_exc("daddi (MIPS64 only)", EXC_RI, pc, 0);
    TRY(pc, ".word 0xdc000000", [d] "+r"(d) :);       /* LD (64-bit only) */
    check_exc("ld (MIPS64 only)", EXC_RI, pc, 0);
    TRY(pc, ".word 0x7c00003b + (31 << 11) + (8 << 16)", [d] "+r"(d) :); /* RDHWR $8, $31 */
    check_exc("rdhwr of an unimplemented register", EXC_RI, pc, 0);
}

/* COP1 with Status.CU1 = 0 is Coprocessor Unusable with Cause.CE = 1 (PRA 9.16
 * Cause, 6.2 "Coprocessor Unusable Exception"), whether or not an FPU exists. */
static void coprocessor(void)
{
    uint32_t pc, d = 0;

    section("coprocessor unusable (CpU)");
    mtc0(C0_STATUS, mfc0(C0_STATUS) & ~ST_CU1);
    TRY(pc, ".word 0x44080000", [d] "+r"(d) :);       /* mfc1 $t0, $f0 */
    check_exc("mfc1 with CU1=0", EXC_CPU, pc, 0);
    check("  Cause.CE", CAUSE_CE(exc_last.cause), 1);
    TRY(pc, ".word 0xc4800000 + (4 << 21)", [d] "+r"(d) :); /* lwc1 $f0, 0($a0) */
    check_exc("lwc1 with CU1=0", EXC_CPU, pc, 0);
    check("  Cause.CE", CAUSE_CE(exc_last.cause), 1);
}

/* An exception in a delay slot: EPC = the branch, Cause.BD = 1 (PRA 6.2,
 * 9.16 Cause.BD, 9.17 EPC).  The branch target is the instruction after the delay
 * slot, so the handler's "resume after the delay slot" is where the branch goes. */
static void delay_slot(void)
{
    uint32_t pc, d = 0, addr = 0x1001;

    section("exceptions in branch delay slots");
    TRY(pc, "beq $0, $0, 2f\n\tteq $0, $0\n2:", [d] "+r"(d) :);
    check_exc("teq in beq delay slot", EXC_TR, pc, 1);
    uint32_t one = 1, two = 2;
    d = 1;                              /* two different registers holding 1 */
    TRY(pc, "bne %[d], %[o], 2f\n\tsyscall\n2:", [d] "+r"(d) : [o] "r"(one));
    check_exc("syscall in untaken bne delay slot", EXC_SYS, pc, 1);
    TRY(pc, "beq %[o], %[t], 2f\n\tsyscall\n2:", [d] "+r"(d) : [o] "r"(one), [t] "r"(two));
    check_exc("syscall in untaken beq delay slot", EXC_SYS, pc, 1);
    /* QEMU DEVIATION: QEMU translates a branch that can never be taken because it
     * compares a register with itself ("bne $0, $0", also BGTZ/BLTZ $0) as a no-op,
     * so the next instruction is not treated as a delay slot: it reports EPC = the
     * SYSCALL and Cause.BD = 0 (target/mips/tcg/translate.c, gen_compute_branch,
     * "Treat as NOP").  Architecturally it is still a delay slot: EPC = the branch,
     * BD = 1 (PRA 9.16, 9.17).  Listed as a known QEMU difference. */
    TRY(pc, "bne $0, $0, 2f\n\tsyscall\n2:", [d] "+r"(d) :);
    check_exc("syscall in bne $0,$0 delay slot [qemu differs]", EXC_SYS, pc, 1);
    d = 0;
    TRY(pc, "b 2f\n\tlw %[d], 0(%[a])\n2:", [d] "+r"(d) : [a] "r"(addr));
    check_exc("misaligned lw in b delay slot", EXC_ADEL, pc, 1);
    check("  BadVAddr", exc_last.badvaddr, addr);
    check("  rt unchanged", d, 0);
    TRY(pc, ASM_LA("%[d]", "2f") "jr %[d]\n\tbreak\n2:", [d] "+r"(d) :);
    check_exc("break in jr delay slot", EXC_BP, pc + 8, 1);
    /* (ra is saved in d around the BGEZAL, which overwrites it) */
    TRY(pc, "move %[d], $ra\n\tbgezal $0, 2f\n\tbreak 3\n2:\tmove $ra, %[d]",
        [d] "+r"(d) :);
    check_exc("break in bgezal delay slot", EXC_BP, pc + 4, 1);
}

int main(void)
{
    traps();
    syscall_break();
    reserved();
    coprocessor();
    delay_slot();
    return check_summary();
}
