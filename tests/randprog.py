"""Random MIPS32r2 programs for differential testing: discovm against qemu-system-mipsel -M malta.

A *body* is a random instruction sequence generated from one seed (``Body(seed)``): it
starts by filling a 256-byte data buffer and every free GPR, HI and LO with seeded values,
runs ~300 random instructions (ALU, HI/LO, loads/stores of all widths, forward branches
of every kind with filled delay slots, bounded loops), snapshotting all registers after
each third (so that a wrong result is less likely to be overwritten unseen), and then
calls the dump routine,
which prints all 32 GPRs, HI, LO, the buffer and a checksum of it on the UART.

A *program* (``program(seeds, target)``) is self-contained assembly: start-up code, its
own exception vectors (any exception prints "@@ EXC ..." and stops the machine: the
bodies never raise one on purpose), one body per seed, the dump routine and power-off.
The same bodies are assembled for both machines; only the values of a few ``lui/ori``
pairs (UART and power-off addresses) differ, so code and data have the same addresses
on both and link addresses (bal, jal, jalr) compare equal.

Output of one body::

    @@ body 0000002a
    r00 00000000
    ...
    r31 80100abc
    hi  12345678
    lo  9abcdef0
    m00 ........ ........ (8 words a line, 64 words: the buffer)
    csum 1234abcd
    @@ checkpoint 1
    r00 00000000          (34 lines: the registers after the first third of the body)
    @@ checkpoint 2
    ...                   (and after the second third)
    @@ end

Reserved registers: $26 (k0) is the loop counter and the dump routine's body id; $27 (k1)
points at the middle of the data buffer (the base of every load/store).  Both are left
out of the comparison.  The bodies avoid undefined results by construction:
ADD/ADDI/SUB get operands shifted right first (no overflow trap), DIV/DIVU get a divisor
with one bit forced on, MUL (which leaves HI/LO UNPREDICTABLE, MIPS32 Vol. II "MUL") is
always followed by an instruction that writes both HI and LO.  Some bodies end with a
MUL or a DIV by a possibly-zero divisor and declare HI/LO excluded (``Body.exclude``).

Command line (reproducing a failure)::

    python tests/randprog.py SEED [SEED...] [--target discovm|malta] [-o FILE.S]
    python tests/randprog.py SEED --run        # build and run on both, show differences
"""

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

MASK = 0xFFFFFFFF
BUF_SIZE = 256                 # data buffer bytes; $27 points at its middle
HALF = BUF_SIZE // 2
SAVE = HALF                    # save area: just after the buffer, at $27 + SAVE
BASE = 27                      # $k1: buffer base
LOOPREG = 26                   # $k0: loop counter
FREE = [r for r in range(1, 32) if r not in (LOOPREG, BASE)]   # registers the body uses
NAMES = [f"r{i:02d}" for i in range(32)] + ["hi", "lo"]
NCP = 2                        # checkpoints a body: register snapshots at 1/3 and 2/3
CP_SIZE = 4 * len(NAMES)


def CP(k):
    """Offset from $27 of checkpoint k's register snapshot (k = 1..NCP)."""
    return SAVE + 160 + (k - 1) * CP_SIZE


ALWAYS_EXCLUDED = frozenset({f"{p}r{r}" for r in (LOOPREG, BASE)
                             for p in [""] + [f"cp{k}." for k in range(1, NCP + 1)]})

TARGETS = {
    # uart: 16550 THR (LSR at +5); poweroff: (address, value stored)
    "discovm": {"uart": 0xBF000000, "poweroff": (0xBF001000, 0), "exc_off": (0xBF001000, 3)},
    "malta": {"uart": 0xB80003F8, "poweroff": (0xBF000500, 0x42), "exc_off": (0xBF000500, 0x42)},
}

CROSS = os.environ.get("CROSS", "mipsel-linux-gnu-")
ASFLAGS = ["-EL", "-march=mips32r2", "-mabi=32", "-mno-abicalls", "-fno-pic", "-G0",
           "-ffreestanding", "-nostdlib", "-static", "-no-pie", "-Wa,--fatal-warnings"]

LINKER_SCRIPT = """\
OUTPUT_ARCH(mips)
ENTRY(_start)
SECTIONS
{
    . = 0x80100000;
    .text : { *(.text) *(.text.*) }
    . = ALIGN(4096);
    .rodata : { *(.rodata) *(.rodata.*) }
    . = ALIGN(4096);
    .data : { *(.data) *(.data.*) }
    /DISCARD/ : { *(.reginfo) *(.MIPS.abiflags) *(.pdr) *(.comment) *(.gnu.attributes) }
}
"""


def _hi_lo(value):
    """lui/ori halves of a 32-bit constant."""
    return (value >> 16) & 0xFFFF, value & 0xFFFF


def _li(reg, value):
    hi, lo = _hi_lo(value & MASK)
    return [f"lui ${reg}, 0x{hi:04x}", f"ori ${reg}, ${reg}, 0x{lo:04x}"]


# ---- the random body ------------------------------------------------------------------

SPECIAL_VALUES = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x80000001, 0x7FFFFFFE,
                  0xFFFF, 0x8000, 0x7FFF, 0xFFFF8000, 0xFFFF7FFF, 0x10000, 0xFF, 0x80,
                  0xFFFFFF80, 0x00FF00FF, 0xAAAAAAAA, 0x55555555, 0xFFFFFFFE]

R3_OPS = ["addu", "subu", "and", "or", "xor", "nor", "slt", "sltu",
          "sllv", "srlv", "srav", "rotrv", "movn", "movz"]
SHIFT_OPS = ["sll", "srl", "sra", "rotr"]
IMM_OPS = ["addiu", "andi", "ori", "xori", "slti", "sltiu"]
UNARY_OPS = ["clz", "clo", "seb", "seh", "wsbh"]
HILO_RW = ["mult", "multu", "madd", "maddu", "msub", "msubu"]
LOADS = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4, "lwl": 1, "lwr": 1}
STORES = {"sb": 1, "sh": 2, "sw": 4, "swl": 1, "swr": 1}
COND2 = ["beq", "bne", "beql", "bnel"]
COND1 = ["blez", "bgtz", "bltz", "bgez", "blezl", "bgtzl", "bltzl", "bgezl"]
COND_LINK = ["bltzal", "bgezal", "bltzall", "bgezall"]

# every mnemonic a body may contain (the coverage test checks they all show up)
ALL_MNEMONICS = sorted(set(
    R3_OPS + SHIFT_OPS + IMM_OPS + UNARY_OPS + HILO_RW + list(LOADS) + list(STORES)
    + COND2 + COND1 + COND_LINK
    + ["add", "addi", "sub", "lui", "mul", "div", "divu", "mfhi", "mflo", "mthi", "mtlo",
       "ext", "ins", "j", "jal", "jr", "jalr", "jr.hb", "b", "bal", "nop", "ssnop", "ehb",
       "sync", "pref"]))


class Body:
    """One random instruction sequence, fully determined by its seed."""

    def __init__(self, seed, n_insns=300):
        self.seed = seed
        self.rng = random.Random(seed)
        self.n_insns = n_insns
        self.count = 0                 # instructions emitted so far
        self.labels = 0
        self.exclude = set(ALWAYS_EXCLUDED)
        self.lines = self._generate()

    # -- random choices
    def value(self):
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return rng.randint(-8, 8) & MASK
        if r < 0.30:
            return rng.choice(SPECIAL_VALUES)
        if r < 0.40:
            v = 1 << rng.randrange(32)
            return (v if rng.random() < 0.5 else -v) & MASK
        if r < 0.50:
            return rng.randrange(BUF_SIZE)
        return rng.getrandbits(32)

    def simm16(self):
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return rng.randint(-8, 8)
        if r < 0.45:
            return rng.choice([0x7FFF, -0x8000, -1, 1, 0, 0x100, -0x100])
        return rng.randint(-0x8000, 0x7FFF)

    def uimm16(self):
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return rng.randint(0, 15)
        if r < 0.45:
            return rng.choice([0xFFFF, 0x8000, 0x7FFF, 0xFF00, 0x00FF])
        return rng.randrange(0x10000)

    def dst(self):
        return 0 if self.rng.random() < 0.02 else self.rng.choice(FREE)

    def src(self):
        return 0 if self.rng.random() < 0.06 else self.rng.choice(FREE)

    def label(self):
        self.labels += 1
        return f"s{self.seed}_L{self.labels}"

    # -- single instructions, legal in a delay slot
    def slot_op(self):
        rng = self.rng
        r = rng.random()
        d, s, t = self.dst(), self.src(), self.src()
        if r < 0.30:
            return [f"{rng.choice(R3_OPS)} ${d}, ${s}, ${t}"]
        if r < 0.42:
            return [f"{rng.choice(SHIFT_OPS)} ${d}, ${t}, {rng.randrange(32)}"]
        if r < 0.58:
            op = rng.choice(IMM_OPS)
            imm = self.uimm16() if op in ("andi", "ori", "xori") else self.simm16()
            return [f"{op} ${d}, ${s}, {imm}"]
        if r < 0.61:
            return [f"lui ${d}, 0x{self.uimm16():04x}"]
        if r < 0.67:
            return [f"{rng.choice(UNARY_OPS)} ${d}, ${s}"]
        if r < 0.72:
            pos = rng.randrange(32)
            size = rng.randint(1, 32 - pos)
            return [f"{rng.choice(['ext', 'ins'])} ${d}, ${s}, {pos}, {size}"]
        if r < 0.80:
            op = rng.choice(["mfhi", "mflo", "mthi", "mtlo"] + HILO_RW)
            if op in ("mfhi", "mflo"):
                return [f"{op} ${d}"]
            if op in ("mthi", "mtlo"):
                return [f"{op} ${s}"]
            return [f"{op} ${s}, ${t}"]
        if r < 0.97:
            return [self.mem_simple()]
        return [rng.choice(["nop", "ssnop", "ehb", "sync",
                            f"pref {rng.choice([0, 1, 4, 5, 6, 7])}, {rng.randint(-HALF, HALF - 1)}(${BASE})"])]

    def mem_simple(self):
        rng = self.rng
        if rng.random() < 0.55:
            op, size = rng.choice(list(LOADS.items()))
            reg = self.dst()
        else:
            op, size = rng.choice(list(STORES.items()))
            reg = self.src()
        off = rng.randrange(-HALF, HALF, size)
        return f"{op} ${reg}, {off}(${BASE})"

    # -- multi-instruction items (not in delay slots)
    def mem_indexed(self):
        """Address computed from a random register: andi/addu then the access."""
        rng = self.rng
        if rng.random() < 0.55:
            op, size = rng.choice(list(LOADS.items()))
            reg = self.dst()
        else:
            op, size = rng.choice(list(STORES.items()))
            reg = self.src()
        idx = rng.choice(FREE)
        mask = (HALF - 1) & ~(size - 1)
        off = rng.randrange(-HALF, 1, size)
        return [f"andi ${idx}, ${self.src()}, {mask}", f"addu ${idx}, ${idx}, ${BASE}",
                f"{op} ${reg}, {off}(${idx})"]

    def unaligned_pair(self):
        """The unaligned word idiom: lwl/lwr or swl/swr on the same (unaligned) word."""
        rng = self.rng
        off = rng.randrange(-HALF, HALF - 3)
        if rng.random() < 0.5:
            d = self.dst()
            return [f"lwl ${d}, {off + 3}(${BASE})", f"lwr ${d}, {off}(${BASE})"]
        s = self.src()
        return [f"swl ${s}, {off + 3}(${BASE})", f"swr ${s}, {off}(${BASE})"]

    def safe_arith(self):
        """ADD/ADDI/SUB on operands shifted right: they cannot overflow."""
        rng = self.rng
        a, b = rng.choice(FREE), rng.choice(FREE)
        out = [f"sra ${a}, ${self.src()}, {rng.randint(1, 3)}",
               f"sra ${b}, ${self.src()}, {rng.randint(1, 3)}"]
        op = rng.choice(["add", "sub", "addi"])
        if op == "addi":
            out.append(f"addi ${self.dst()}, ${a}, {self.simm16()}")
        else:
            out.append(f"{op} ${self.dst()}, ${a}, ${b}")
        return out

    def safe_div(self):
        """DIV/DIVU with a divisor that has one bit forced on (never zero)."""
        rng = self.rng
        t = rng.choice(FREE)
        bit = rng.randrange(32)
        if bit < 16:
            out = [f"ori ${t}, ${self.src()}, 0x{1 << bit:x}"]
        else:
            u = rng.choice(FREE)
            out = [f"lui ${u}, 0x{1 << (bit - 16):x}", f"or ${t}, ${self.src()}, ${u}"]
        out.append(f"{rng.choice(['div', 'divu'])} $0, ${self.src()}, ${t}")
        return out

    def mul(self):
        """MUL leaves HI/LO UNPREDICTABLE: write both right after it."""
        rng = self.rng
        out = [f"mul ${self.dst()}, ${self.src()}, ${self.src()}"]
        r = rng.random()
        if r < 0.5:
            out.append(f"{rng.choice(['mult', 'multu'])} ${self.src()}, ${self.src()}")
        elif r < 0.75:
            out += self.safe_div()
        else:
            out += [f"mthi ${self.src()}", f"mtlo ${self.src()}"]
        return out

    def branch(self, depth, in_loop):
        """A forward branch or jump over a random sub-block, delay slot filled."""
        rng = self.rng
        target = self.label()
        pre = []
        r = rng.random()
        if r < 0.30:
            op = rng.choice(COND2)
            s, t = self.src(), self.src()
            if rng.random() < 0.15:
                t = s                   # always (beq) / never (bne) taken
            br = f"{op} ${s}, ${t}, {target}"
        elif r < 0.60:
            br = f"{rng.choice(COND1)} ${self.src()}, {target}"
        elif r < 0.72:
            s = rng.choice([x for x in FREE if x != 31] + [0])   # rs = 31: UNPREDICTABLE
            br = f"{rng.choice(COND_LINK)} ${s}, {target}"
        elif r < 0.80:
            br = f"{rng.choice(['b', 'bal'])} {target}"
        elif r < 0.90:
            br = f"{rng.choice(['j', 'jal'])} {target}"
        else:
            t = rng.choice(FREE)
            pre = [f"lui ${t}, %hi({target})", f"addiu ${t}, ${t}, %lo({target})"]
            k = rng.random()
            if k < 0.4:
                br = f"jr ${t}"
            elif k < 0.5:
                br = f"jr.hb ${t}"
            else:
                others = [x for x in FREE if x != t]
                d = rng.choice(others + [31, 31] if t != 31 else others)   # rd != rs
                br = f"jalr ${d}, ${t}"
        out = pre + [br] + self.slot_op()
        out += self.block(rng.randint(0, 6), depth + 1, in_loop)
        out.append(f"{target}:")
        return out

    def loop(self, depth):
        """A counted loop (1-5 iterations) on $k0; no loop inside it."""
        rng = self.rng
        top = self.label()
        out = [f"addiu ${LOOPREG}, $0, {rng.randint(1, 5)}", f"{top}:"]
        out += self.block(rng.randint(2, 10), depth + 1, True)
        out.append(f"addiu ${LOOPREG}, ${LOOPREG}, -1")
        out.append(f"{rng.choice(['bne', 'bnel'])} ${LOOPREG}, $0, {top}"
                   if rng.random() < 0.6 else
                   f"{rng.choice(['bgtz', 'bgtzl'])} ${LOOPREG}, {top}")
        out += self.slot_op()
        return out

    def item(self, depth, in_loop):
        rng = self.rng
        r = rng.random()
        if depth < 3 and r < 0.12:
            return self.branch(depth, in_loop)
        if depth == 0 and not in_loop and r < 0.16:
            return self.loop(depth)
        if r < 0.22:
            return self.safe_arith()
        if r < 0.26:
            return self.safe_div()
        if r < 0.29:
            return self.mul()
        if r < 0.35:
            return self.mem_indexed()
        if r < 0.38:
            return self.unaligned_pair()
        return self.slot_op()

    def block(self, n, depth, in_loop):
        out = []
        for _ in range(n):
            out += self.item(depth, in_loop)
        return out

    def _generate(self):
        rng = self.rng
        lines = []
        # buffer: xorshift32 from a seeded value
        lines += _li(8, rng.getrandbits(32) | 1)
        lines += [f"addiu $9, ${BASE}, {-HALF}", f"addiu $10, ${BASE}, {HALF}",
                  "1: sll $11, $8, 13", "xor $8, $8, $11", "srl $11, $8, 17",
                  "xor $8, $8, $11", "sll $11, $8, 5", "xor $8, $8, $11",
                  "sw $8, 0($9)", "addiu $9, $9, 4", "bne $9, $10, 1b", "nop"]
        # HI, LO and the registers
        lines += _li(1, self.value()) + ["mthi $1"] + _li(1, self.value()) + ["mtlo $1"]
        for r in FREE:
            lines += _li(r, self.value())
        lines.append(f"addiu ${LOOPREG}, $0, 0")
        # the random part, in NCP + 1 segments with a register snapshot between them
        body = []
        for k in range(NCP + 1):
            if k:
                body += self.checkpoint(k)
            seg = []
            while sum(1 for x in seg if not x.endswith(":")) < self.n_insns // (NCP + 1):
                seg += self.item(0, False)
            body += seg
        # a tail that leaves HI/LO UNPREDICTABLE (and must not crash the machine)
        r = rng.random()
        if r < 0.08:
            body.append(f"mul ${self.dst()}, ${self.src()}, ${self.src()}")
            self.exclude |= {"hi", "lo"}
        elif r < 0.16:
            body.append(f"{rng.choice(['div', 'divu'])} $0, ${self.src()}, "
                        f"${rng.choice([0, 0, self.src()])}")
            self.exclude |= {"hi", "lo"}
        lines += body
        self.count = sum(1 for x in lines if not x.endswith(":"))
        return lines

    @staticmethod
    def checkpoint(k):
        """Store every register (and HI, LO through $k0, free outside loops) in slot k."""
        out = [f"sw ${r}, {CP(k) + 4 * r}(${BASE})" for r in [0] + FREE]
        out += [f"mfhi ${LOOPREG}", f"sw ${LOOPREG}, {CP(k) + 128}(${BASE})",
                f"mflo ${LOOPREG}", f"sw ${LOOPREG}, {CP(k) + 132}(${BASE})"]
        return out

    def mnemonics(self):
        out = set()
        for x in self.lines:
            if not x.endswith(":"):
                m = x.split()[0]
                out.add(m if not m[0].isdigit() else x.split()[1])
        return out


# ---- the whole program -----------------------------------------------------------------

def _runtime(target):
    """Start-up, exception vectors, dump routine, UART output: the same size for both targets."""
    t = TARGETS[target]
    uh, ul = _hi_lo(t["uart"])
    off_addr, off_val = t["poweroff"]
    exc_addr, exc_val = t["exc_off"]
    print_cps = "\n".join(
        f"        lui     $4, %hi(str_cp{k})\n        bal     print_str\n"
        f"        addiu   $4, $4, %lo(str_cp{k})\n        bal     print_regs\n"
        f"        addiu   $21, $27, {CP(k)}" for k in range(1, NCP + 1))
    cp_strings = "\n".join(f'str_cp{k}: .asciz "@@ checkpoint {k}\\n"'
                           for k in range(1, NCP + 1))
    return f"""
        .set noreorder
        .set noat
        .text
        .globl _start
_start:
        b       real_start
        nop

/* ---- exception vectors at EBase = vectors: any exception is a failure ---- */
        .align  12
vectors:
        j       exc_common              /* +0x000 TLB refill */
        nop
        .org    vectors + 0x180
        j       exc_common              /* +0x180 general */
        nop
        .org    vectors + 0x200
        j       exc_common              /* +0x200 interrupt */
        nop
exc_common:
        lui     $27, %hi(buf + {HALF})
        addiu   $27, $27, %lo(buf + {HALF})
        lui     $4, %hi(str_exc)
        bal     print_str
        addiu   $4, $4, %lo(str_exc)
        mfc0    $4, $13                 /* Cause */
        bal     print_hex
        addiu   $5, $0, 8
        bal     putc
        addiu   $4, $0, 32
        mfc0    $4, $14                 /* EPC */
        bal     print_hex
        addiu   $5, $0, 8
        bal     putc
        addiu   $4, $0, 32
        mfc0    $4, $8                  /* BadVAddr */
        bal     print_hex
        addiu   $5, $0, 8
        bal     putc
        addiu   $4, $0, 10
        lui     $8, 0x{exc_addr >> 16:04x}
        ori     $8, $8, 0x{exc_addr & 0xFFFF:04x}
        ori     $9, $0, 0x{exc_val:x}
        sw      $9, 0($8)
1:      b       1b
        nop

real_start:
        lui     $8, %hi(vectors)
        addiu   $8, $8, %lo(vectors)
        mtc0    $8, $15, 1              /* EBase (while BEV = 1) */
        ehb
        mtc0    $0, $12                 /* Status = 0: kernel mode, BEV = ERL = EXL = 0 */
        ehb
        lui     $27, %hi(buf + {HALF})
        addiu   $27, $27, %lo(buf + {HALF})
        b       bodies
        nop

/* ---- putc($4): poll LSR.THRE, write THR; clobbers $24, $25 ---- */
putc:
        lui     $24, 0x{uh:04x}
        ori     $24, $24, 0x{ul:04x}
1:      lbu     $25, 5($24)
        andi    $25, $25, 0x20
        beq     $25, $0, 1b
        nop
        jr      $31
        sb      $4, 0($24)

/* ---- print_hex($4 = value, $5 = digits); clobbers $4, $8-$12, $24, $25 ---- */
print_hex:
        move    $12, $31
        move    $8, $4
        sll     $9, $5, 2
1:      addiu   $9, $9, -4
        srlv    $10, $8, $9
        andi    $10, $10, 0xf
        sltiu   $11, $10, 10
        bne     $11, $0, 2f
        addiu   $4, $10, 48
        addiu   $4, $10, 87
2:      bal     putc
        nop
        bne     $9, $0, 1b
        nop
        jr      $12
        nop

/* ---- print_str($4 = NUL-terminated string); clobbers $4, $13-$15, $24, $25 ---- */
print_str:
        move    $15, $31
        move    $13, $4
1:      lbu     $4, 0($13)
        beq     $4, $0, 2f
        nop
        bal     putc
        addiu   $13, $13, 1
        b       1b
        nop
2:      jr      $15
        nop

/* ---- dump: called with jal, body id in $26, $31 already saved at SAVE+124($27) ---- */
dump:
{chr(10).join(f"        sw      ${r}, {SAVE + 4 * r}(${BASE})" for r in range(0, 31) if r not in (LOOPREG, BASE))}
        sw      $26, {SAVE + 4 * LOOPREG}(${BASE})
        sw      $27, {SAVE + 4 * BASE}(${BASE})
        mfhi    $1
        sw      $1, {SAVE + 128}(${BASE})
        mflo    $1
        sw      $1, {SAVE + 132}(${BASE})
        sw      $31, {SAVE + 136}(${BASE})   /* return address (the next body) */
        lui     $4, %hi(str_body)
        bal     print_str
        addiu   $4, $4, %lo(str_body)
        move    $4, $26
        bal     print_hex
        addiu   $5, $0, 8
        bal     putc
        addiu   $4, $0, 10
        bal     print_regs
        addiu   $21, $27, {SAVE}
        /* the buffer, 8 words a line, and its checksum */
        move    $16, $0                 /* word index */
        move    $20, $0                 /* checksum */
4:      andi    $19, $16, 7
        bne     $19, $0, 5f
        nop
        bal     putc
        addiu   $4, $0, 109             /* 'm' */
        move    $4, $16
        bal     print_hex
        addiu   $5, $0, 2
5:      bal     putc
        addiu   $4, $0, 32
        sll     $18, $16, 2
        addu    $18, $18, $27
        lw      $4, {-HALF}($18)
        rotr    $20, $20, 27
        xor     $20, $20, $4
        addu    $20, $20, $16
        bal     print_hex
        addiu   $5, $0, 8
        andi    $19, $16, 7
        xori    $19, $19, 7
        bne     $19, $0, 6f
        nop
        bal     putc
        addiu   $4, $0, 10
6:      addiu   $16, $16, 1
        sltiu   $19, $16, {BUF_SIZE // 4}
        bne     $19, $0, 4b
        nop
        lui     $4, %hi(str_csum)
        bal     print_str
        addiu   $4, $4, %lo(str_csum)
        move    $4, $20
        bal     print_hex
        addiu   $5, $0, 8
        bal     putc
        addiu   $4, $0, 10
{print_cps}
        lui     $4, %hi(str_end)
        bal     print_str
        addiu   $4, $4, %lo(str_end)
        lw      $31, {SAVE + 136}(${BASE})
        jr      $31
        nop

/* ---- print_regs($21 = 34 words: r0..r31, hi, lo): a line each; clobbers $16-$19, $22 ---- */
print_regs:
        move    $22, $31
        move    $16, $0
        lui     $17, %hi(names)
        addiu   $17, $17, %lo(names)
3:      sll     $4, $16, 3
        bal     print_str
        addu    $4, $4, $17
        sll     $18, $16, 2
        addu    $18, $18, $21
        lw      $4, 0($18)
        bal     print_hex
        addiu   $5, $0, 8
        bal     putc
        addiu   $4, $0, 10
        addiu   $16, $16, 1
        sltiu   $19, $16, 34
        bne     $19, $0, 3b
        nop
        jr      $22
        nop

finish:
        lui     $4, %hi(str_done)
        bal     print_str
        addiu   $4, $4, %lo(str_done)
        lui     $8, 0x{off_addr >> 16:04x}
        ori     $8, $8, 0x{off_addr & 0xFFFF:04x}
        ori     $9, $0, 0x{off_val:x}
        sw      $9, 0($8)
1:      b       1b
        nop

        .section .rodata
str_exc:  .asciz "@@ EXC "
str_body: .asciz "@@ body "
str_csum: .asciz "csum "
str_end:  .asciz "@@ end\\n"
{cp_strings}
str_done: .asciz "@@ done\\n"
        .align 3
names:
{chr(10).join(f'        .ascii "{n:<4}"; .byte 0, 0, 0, 0' for n in NAMES)}

        .data
        .align 12
buf:    .space {BUF_SIZE}
save:   .space {160 + NCP * CP_SIZE}
"""


def program(seeds, target, n_insns=300):
    """Assembly text of one program running one body per seed; and the bodies."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    seeds = list(seeds)
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct")
    bodies = [Body(s, n_insns) for s in seeds]
    out = [f"/* randprog: seeds {seeds}, target {target}, {n_insns} instructions a body */",
           _runtime(target), "        .text", "bodies:"]
    for b in bodies:
        out.append(f"/* ---- body, seed {b.seed} ({b.count} instructions) ---- */")
        out.append(f"s{b.seed}_start:")
        for x in b.lines:
            out.append(x if x.endswith(":") else "        " + x)
        out.append(f"        sw      $31, {SAVE + 124}(${BASE})")
        out += ["        " + x for x in (f"lui $26, 0x{b.seed >> 16 & 0xFFFF:04x}",
                                         "jal dump",
                                         f"ori $26, $26, 0x{b.seed & 0xFFFF:04x}")]
    out += ["        b       finish", "        nop", ""]
    return "\n".join(out), bodies


# ---- building, running, comparing -------------------------------------------------------

def build(seeds, target, workdir, n_insns=300, name=None):
    """Write NAME.S and link NAME.elf in workdir; returns (elf path, .S path, bodies)."""
    os.makedirs(workdir, exist_ok=True)
    name = name or f"randprog-{target}"
    text, bodies = program(seeds, target, n_insns)
    src = os.path.join(workdir, name + ".S")
    elf = os.path.join(workdir, name + ".elf")
    lds = os.path.join(workdir, "randprog.ld")
    with open(src, "w") as f:
        f.write(text)
    with open(lds, "w") as f:
        f.write(LINKER_SCRIPT)
    cmd = [CROSS + "gcc"] + ASFLAGS + ["-T", lds, "-Wl,--build-id=none", "-o", elf, src]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"assembling {src} failed:\n{r.stderr}")
    return elf, src, bodies


def qemu_cmd(elf):
    return ["qemu-system-mipsel", "-M", "malta", "-cpu", "24Kf", "-nographic", "-no-reboot",
            "-vga", "none", "-nic", "none", "-kernel", elf]


def discovm_cmd(elf, max_instructions=50_000_000):
    return [sys.executable, "-m", "discovm", "run", "--kernel", elf,
            "--max-instructions", str(max_instructions)]


def run(cmd, timeout=120):
    """(exit status, stdout text, stderr text) of a run; raises on timeout."""
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return (r.returncode, r.stdout.decode("latin-1").replace("\r\n", "\n"),
            r.stderr.decode("latin-1"))


_LINE = re.compile(r"^(r\d\d|hi|lo|csum) +([0-9a-f]{8})$")


def parse(text):
    """Console text -> (dumps {seed: {name: value}}, done flag, exception line or None).

    Names are r00..r31, hi, lo, csum, m00..m3f (buffer word i) and cpK.r00 .. cpK.lo
    (checkpoint K's registers)."""
    dumps, cur, done, exc, prefix = {}, None, False, None, ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("@@ body "):
            cur, prefix = {}, ""
            dumps[int(line.split()[2], 16)] = cur
        elif line.startswith("@@ checkpoint "):
            prefix = f"cp{line.split()[2]}."
        elif line == "@@ end":
            cur = None
        elif line == "@@ done":
            done = True
        elif line.startswith("@@ EXC"):
            exc = line
        elif cur is not None:
            m = _LINE.match(line)
            if m:
                cur[prefix + m.group(1)] = int(m.group(2), 16)
            elif line.startswith("m") and len(line) > 3:
                base = int(line[1:3], 16)
                for i, w in enumerate(line[3:].split()):
                    cur[f"m{base + i:02x}"] = int(w, 16)
    return dumps, done, exc


def compare(expected, got, exclude):
    """Differences between two dumps of one body: [(name, expected, got)]."""
    out = []
    for name in sorted(set(expected) | set(got), key=_order):
        if name in exclude:
            continue
        e, g = expected.get(name), got.get(name)
        if e != g:
            out.append((name, e, g))
    return out


def _order(name):
    if name.startswith("cp"):
        k, _, n = name.partition(".")
        return 1000 * int(k[2:]) + NAMES.index(n)
    return (NAMES.index(name) if name in NAMES else 100 if name == "csum" else
            200 + int(name[1:], 16))


def fmt(v):
    return "missing" if v is None else f"{v:08x}"


MAX_SHOWN = 16                 # differing values named in a problem report


def differential(seeds, workdir, n_insns=300, timeout=120, max_instructions=50_000_000):
    """Build the bodies of `seeds` into one program for each machine, run both, compare.

    Returns (problems, sources): problems is a list of (seed or None, message), empty when
    every body agrees; sources are the (malta, discovm) .S paths in workdir."""
    q_elf, q_src, bodies = build(seeds, "malta", workdir, n_insns)
    d_elf, d_src, _ = build(seeds, "discovm", workdir, n_insns)
    srcs = (q_src, d_src)
    problems = []
    q_rc, q_out, q_err = run(qemu_cmd(q_elf), timeout)
    q_dumps, q_done, q_exc = parse(q_out)
    if not q_done or q_exc or set(q_dumps) != set(seeds):
        problems.append((None, f"QEMU did not run {q_src} to the end (status {q_rc}, "
                               f"{q_exc or 'no exception'}):\n{q_out[-2000:]}{q_err[-2000:]}"))
        return problems, srcs
    try:
        d_rc, d_out, d_err = run(discovm_cmd(d_elf, max_instructions), timeout)
    except subprocess.TimeoutExpired:
        problems.append((None, f"discovm timed out after {timeout} s on {d_elf}"))
        return problems, srcs
    d_dumps, d_done, d_exc = parse(d_out)
    for b in bodies:
        if b.seed not in d_dumps:
            msg = f"seed {b.seed}: no dump from discovm"
            if d_exc:
                msg += f" (it printed {d_exc!r}: Cause EPC BadVAddr)"
            problems.append((b.seed, msg))
            break                       # the later ones are missing too
        diffs = compare(q_dumps[b.seed], d_dumps[b.seed], b.exclude)
        missing = [n for n, _, g in diffs if g is None]
        wrong = [d for d in diffs if d[2] is not None]
        if diffs:
            msg = f"seed {b.seed}: " + ", ".join(
                f"{n} qemu={fmt(e)} discovm={fmt(g)}" for n, e, g in wrong[:MAX_SHOWN])
            if len(wrong) > MAX_SHOWN:
                msg += f", ... ({len(wrong) - MAX_SHOWN} more)"
            if missing:
                msg += f"{'; ' if wrong else ''}dump cut short: {len(missing)} values missing"
            problems.append((b.seed, msg))
    if not d_done or d_rc != 0:
        problems.append((None, f"discovm did not finish cleanly (status {d_rc}, "
                               f"'@@ done' {'seen' if d_done else 'missing'}):\n"
                               f"{d_out[-1500:]}{d_err[-3000:]}"))
    return problems, srcs


def keep_reproducers(seeds, workdir, n_insns=300):
    """One-body programs (both machines) for each failing seed; returns their paths."""
    out = []
    for seed in seeds:
        for target in ("discovm", "malta"):
            _, src, _ = build([seed], target, workdir, n_insns, name=f"seed{seed}-{target}")
            out.append(src)
    return out


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("seeds", type=int, nargs="+")
    p.add_argument("--target", default="discovm", choices=sorted(TARGETS))
    p.add_argument("--insns", type=int, default=300, help="instructions a body")
    p.add_argument("-o", "--output", help="write the assembly here (default stdout)")
    p.add_argument("--run", action="store_true", help="build and run on QEMU and discovm")
    p.add_argument("--keep", help="directory for the build (with --run)")
    a = p.parse_args(argv)
    if a.run:
        work = a.keep or tempfile.mkdtemp(prefix="randprog-")
        problems, srcs = differential(a.seeds, work, a.insns)
        print("\n".join(m for _, m in problems) if problems else
              f"{len(a.seeds)} bodies agree")
        print("sources:", *srcs)
        if not a.keep and not problems:
            shutil.rmtree(work)
        return 1 if problems else 0
    text, _ = program(a.seeds, a.target, a.insns)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
