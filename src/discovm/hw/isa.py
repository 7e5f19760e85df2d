"""The MIPS32 Release 2 integer instruction set, as data.

This table is the single description of how instructions are encoded (MIPS32 Architecture
for Programmers, Vol. II, "Instruction Encoding" tables).  The execution engine
(:mod:`discovm.hw.engine`) switches on the numeric constants generated from it, the
disassembler (:func:`disassemble`) reads it, and the tests use it; nothing else spells an
opcode number.

Each row: mnemonic, decoding class, the value of the field that selects it inside that class,
operand syntax.  The classes follow the manual's two-level decoding:

===========  ====================================  ================================
class        selected by                           generated constant
===========  ====================================  ================================
``op``       bits 31..26 (primary opcode)          ``OP_<NAME>``
``special``  opcode 0, bits 5..0 (funct)           ``F_<NAME>``
``regimm``   opcode 1, bits 20..16 (rt)            ``RI_<NAME>``
``special2`` opcode 28, bits 5..0 (funct)          ``S2_<NAME>``
``special3`` opcode 31, bits 5..0 (funct)          ``S3_<NAME>``
``bshfl``    special3 BSHFL, bits 10..6 (sa)       ``BS_<NAME>``
``cop0``     opcode 16, bits 25..21 (rs)           ``C0_<NAME>``
``co``       cop0 with bit 25 set, bits 5..0       ``CO_<NAME>``
===========  ====================================  ================================
"""

import numpy as np

_TABLE = """
# ---- primary opcodes ------------------------------------------------------------
special   op 0x00  -
regimm    op 0x01  -
j         op 0x02  target
jal       op 0x03  target
beq       op 0x04  rs,rt,off
bne       op 0x05  rs,rt,off
blez      op 0x06  rs,off
bgtz      op 0x07  rs,off
addi      op 0x08  rt,rs,imm
addiu     op 0x09  rt,rs,imm
slti      op 0x0a  rt,rs,imm
sltiu     op 0x0b  rt,rs,imm
andi      op 0x0c  rt,rs,uimm
ori       op 0x0d  rt,rs,uimm
xori      op 0x0e  rt,rs,uimm
lui       op 0x0f  rt,uimm
cop0      op 0x10  -
cop1      op 0x11  -
cop2      op 0x12  -
cop1x     op 0x13  -
beql      op 0x14  rs,rt,off
bnel      op 0x15  rs,rt,off
blezl     op 0x16  rs,off
bgtzl     op 0x17  rs,off
special2  op 0x1c  -
jalx      op 0x1d  target
special3  op 0x1f  -
lb        op 0x20  rt,mem
lh        op 0x21  rt,mem
lwl       op 0x22  rt,mem
lw        op 0x23  rt,mem
lbu       op 0x24  rt,mem
lhu       op 0x25  rt,mem
lwr       op 0x26  rt,mem
sb        op 0x28  rt,mem
sh        op 0x29  rt,mem
swl       op 0x2a  rt,mem
sw        op 0x2b  rt,mem
swr       op 0x2e  rt,mem
cache     op 0x2f  op,mem
ll        op 0x30  rt,mem
lwc1      op 0x31  ft,mem
lwc2      op 0x32  rt,mem
pref      op 0x33  hint,mem
ldc1      op 0x35  ft,mem
ldc2      op 0x36  rt,mem
sc        op 0x38  rt,mem
swc1      op 0x39  ft,mem
swc2      op 0x3a  rt,mem
sdc1      op 0x3d  ft,mem
sdc2      op 0x3e  rt,mem
# ---- SPECIAL (funct) ------------------------------------------------------------
sll       special 0x00  rd,rt,sa
movci     special 0x01  -
srl       special 0x02  rd,rt,sa
sra       special 0x03  rd,rt,sa
sllv      special 0x04  rd,rt,rs
srlv      special 0x06  rd,rt,rs
srav      special 0x07  rd,rt,rs
jr        special 0x08  rs
jalr      special 0x09  rd,rs
movz      special 0x0a  rd,rs,rt
movn      special 0x0b  rd,rs,rt
syscall   special 0x0c  code
break     special 0x0d  code
sync      special 0x0f  -
mfhi      special 0x10  rd
mthi      special 0x11  rs
mflo      special 0x12  rd
mtlo      special 0x13  rs
mult      special 0x18  rs,rt
multu     special 0x19  rs,rt
div       special 0x1a  rs,rt
divu      special 0x1b  rs,rt
add       special 0x20  rd,rs,rt
addu      special 0x21  rd,rs,rt
sub       special 0x22  rd,rs,rt
subu      special 0x23  rd,rs,rt
and       special 0x24  rd,rs,rt
or        special 0x25  rd,rs,rt
xor       special 0x26  rd,rs,rt
nor       special 0x27  rd,rs,rt
slt       special 0x2a  rd,rs,rt
sltu      special 0x2b  rd,rs,rt
tge       special 0x30  rs,rt
tgeu      special 0x31  rs,rt
tlt       special 0x32  rs,rt
tltu      special 0x33  rs,rt
teq       special 0x34  rs,rt
tne       special 0x36  rs,rt
# ---- REGIMM (rt) ----------------------------------------------------------------
bltz      regimm 0x00  rs,off
bgez      regimm 0x01  rs,off
bltzl     regimm 0x02  rs,off
bgezl     regimm 0x03  rs,off
tgei      regimm 0x08  rs,imm
tgeiu     regimm 0x09  rs,imm
tlti      regimm 0x0a  rs,imm
tltiu     regimm 0x0b  rs,imm
teqi      regimm 0x0c  rs,imm
tnei      regimm 0x0e  rs,imm
bltzal    regimm 0x10  rs,off
bgezal    regimm 0x11  rs,off
bltzall   regimm 0x12  rs,off
bgezall   regimm 0x13  rs,off
synci     regimm 0x1f  mem
# ---- SPECIAL2 (funct) -----------------------------------------------------------
madd      special2 0x00  rs,rt
maddu     special2 0x01  rs,rt
mul       special2 0x02  rd,rs,rt
msub      special2 0x04  rs,rt
msubu     special2 0x05  rs,rt
clz       special2 0x20  rd,rs
clo       special2 0x21  rd,rs
sdbbp     special2 0x3f  code
# ---- SPECIAL3 (funct) -----------------------------------------------------------
ext       special3 0x00  rt,rs,pos,size
ins       special3 0x04  rt,rs,pos,size
bshfl     special3 0x20  -
rdhwr     special3 0x3b  rt,rd
# ---- BSHFL (sa) -----------------------------------------------------------------
wsbh      bshfl 0x02  rd,rt
seb       bshfl 0x10  rd,rt
seh       bshfl 0x18  rd,rt
# ---- COP0 (rs) ------------------------------------------------------------------
mfc0      cop0 0x00  rt,c0
mtc0      cop0 0x04  rt,c0
rdpgpr    cop0 0x0a  rd,rt
mfmc0     cop0 0x0b  rt
wrpgpr    cop0 0x0e  rd,rt
# ---- COP0 with CO=1 (funct) -----------------------------------------------------
tlbr      co 0x01  -
tlbwi     co 0x02  -
tlbwr     co 0x06  -
tlbp      co 0x08  -
eret      co 0x18  -
deret     co 0x1f  -
wait      co 0x20  -
"""

_PREFIX = {"op": "OP", "special": "F", "regimm": "RI", "special2": "S2", "special3": "S3",
           "bshfl": "BS", "cop0": "C0", "co": "CO"}


def _parse(text):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, cls, value, syntax = line.split()
        rows.append((name, cls, int(value, 16), syntax))
    return rows


#: (mnemonic, class, selector value, operand syntax) for every instruction.
INSTRUCTIONS = _parse(_TABLE)

# Generate the named constants (OP_LW, F_ADDU, RI_BGEZAL, ...) the engine switches on.
for _name, _cls, _value, _syntax in INSTRUCTIONS:
    globals()[f"{_PREFIX[_cls]}_{_name.upper()}"] = _value

#: Instructions by (class, selector value), for decoding.
BY_CODE = {(cls, value): (name, syntax) for name, cls, value, syntax in INSTRUCTIONS}

# ---- loads and stores, as data ----------------------------------------------------
# For each primary opcode: access size in bytes (0 = not a plain data access) and whether
# it writes memory.  lwl/lwr/swl/swr access the aligned word that holds the address; their
# size here is 4 with no alignment requirement (MIPS32 Vol. II, LWL/LWR/SWL/SWR).
MEM_SIZE = np.zeros(64, np.int64)
MEM_STORE = np.zeros(64, np.int64)
MEM_ALIGN = np.zeros(64, np.int64)      # address bits that must be zero, else AdEL/AdES
for _name, _size, _store, _align in [
        ("lb", 1, 0, 0), ("lbu", 1, 0, 0), ("lh", 2, 0, 1), ("lhu", 2, 0, 1),
        ("lw", 4, 0, 3), ("ll", 4, 0, 3), ("lwl", 4, 0, 0), ("lwr", 4, 0, 0),
        ("sb", 1, 1, 0), ("sh", 2, 1, 1), ("sw", 4, 1, 3), ("sc", 4, 1, 3),
        ("swl", 4, 1, 0), ("swr", 4, 1, 0)]:
    _op = globals()[f"OP_{_name.upper()}"]
    MEM_SIZE[_op], MEM_STORE[_op], MEM_ALIGN[_op] = _size, _store, _align

# ---- field extraction (shared by the engine and the disassembler) --------------------


def fields(inst):
    """Split a 32-bit instruction word into its named fields."""
    return {"op": inst >> 26, "rs": (inst >> 21) & 31, "rt": (inst >> 16) & 31,
            "rd": (inst >> 11) & 31, "sa": (inst >> 6) & 31, "funct": inst & 63,
            "imm": inst & 0xFFFF, "target": inst & 0x3FFFFFF}


_REG = ["zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2", "t3", "t4",
        "t5", "t6", "t7", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "t8", "t9",
        "k0", "k1", "gp", "sp", "fp", "ra"]


def decode(inst):
    """Return (mnemonic, syntax) for an instruction word, or None if it is reserved."""
    f = fields(inst)
    cls, key = "op", f["op"]
    if key == OP_SPECIAL:                               # noqa: F821 (generated)
        cls, key = "special", f["funct"]
    elif key == OP_REGIMM:                              # noqa: F821
        cls, key = "regimm", f["rt"]
    elif key == OP_SPECIAL2:                            # noqa: F821
        cls, key = "special2", f["funct"]
    elif key == OP_SPECIAL3:                            # noqa: F821
        cls, key = "special3", f["funct"]
        if key == S3_BSHFL:                             # noqa: F821
            cls, key = "bshfl", f["sa"]
    elif key == OP_COP0:                                # noqa: F821
        cls, key = ("co", f["funct"]) if f["rs"] & 0x10 else ("cop0", f["rs"])
    return BY_CODE.get((cls, key))


def disassemble(inst, pc=0):
    """One instruction as assembler text (for traces and error messages)."""
    if inst == 0:
        return "nop"
    d = decode(inst)
    if d is None:
        return f".word 0x{inst:08x}"
    name, syntax = d
    f = fields(inst)
    simm = (f["imm"] ^ 0x8000) - 0x8000
    out = []
    for part in syntax.split(","):
        if part == "-":
            continue
        if part in ("rs", "rt", "rd"):
            out.append("$" + _REG[f[part]])
        elif part == "sa":
            out.append(str(f["sa"]))
        elif part == "imm":
            out.append(str(simm))
        elif part == "uimm":
            out.append(hex(f["imm"]))
        elif part == "off":
            out.append(hex((pc + 4 + (simm << 2)) & 0xFFFFFFFF))
        elif part == "target":
            out.append(hex(((pc + 4) & 0xF0000000) | (f["target"] << 2)))
        elif part == "mem":
            out.append(f"{simm}(${_REG[f['rs']]})")
        elif part == "c0":
            out.append(f"${f['rd']},{inst & 7}")
        elif part in ("pos", "size"):
            out.append(str(f["sa"] if part == "pos" else f["rd"]))
        else:                                           # code, hint, op, ft: raw field
            out.append(hex(f["rt"]) if part in ("hint", "op", "ft") else hex((inst >> 6) & 0xFFFFF))
    return name + (" " + ", ".join(out) if out else "")
