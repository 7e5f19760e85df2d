"""The instruction table against an independent decoder: GNU objdump from Debian's binutils.

For every row of the table we build a word with that encoding, disassemble it with objdump
and check the mnemonic.  A wrong opcode or funct number in the table fails here.
"""

import re
import subprocess

from discovm.hw import isa

# objdump prints some encodings under another name (aliases) or prints the whole class.
ALIASES = {"sll": {"nop", "sll"}, "beq": {"b", "beq"}, "bgezal": {"bal", "bgezal"},
           "cache": {"cache"}, "mfmc0": {"di", "ei"}, "jalr": {"jalr"},
           "movci": {"movf", "movt"}}
CONTAINERS = {"special", "regimm", "special2", "special3", "cop0", "cop1", "cop2", "cop1x",
              "bshfl"}


_CLASS_BASE = {"op": 0, "special": 0, "regimm": 1 << 26, "special2": 28 << 26,
               "special3": 31 << 26, "bshfl": (31 << 26) | 0x20, "cop0": 16 << 26,
               "co": (16 << 26) | (1 << 25)}


def encode(name, cls, value, syntax):
    """A word with this row's encoding and distinct non-zero operands where it has them."""
    word = _CLASS_BASE[cls]
    word |= {"op": value << 26, "special": value, "regimm": value << 16, "special2": value,
             "special3": value, "bshfl": value << 6, "cop0": value << 21, "co": value}[cls]
    for part in syntax.split(","):
        word |= {"rs": 3 << 21, "rt": 2 << 16, "rd": 1 << 11, "sa": 5 << 6, "imm": 3,
                 "uimm": 3, "off": 3, "target": 3, "mem": (3 << 21) | 8, "c0": 12 << 11,
                 "pos": 4 << 6, "size": 7 << 11, "code": 0, "hint": 1 << 16, "op": 1 << 16,
                 "ft": 2 << 16}.get(part, 0)
    if name == "mfmc0":
        word |= 12 << 11 | (1 << 16)                    # di $at
    if name == "rdhwr":
        word &= ~(7 << 6)
    return word


def objdump_words(words, tmp_path):
    blob = tmp_path / "words.bin"
    blob.write_bytes(b"".join(w.to_bytes(4, "little") for w in words))
    out = subprocess.run(["mipsel-linux-gnu-objdump", "-D", "-b", "binary", "-m", "mips:isa32r2",
                          "-EL", str(blob)], capture_output=True, text=True, check=True).stdout
    names = []
    for line in out.splitlines():
        m = re.match(r"\s+[0-9a-f]+:\s+[0-9a-f]{8}\s+(\S+)", line)
        if m:
            names.append(m.group(1))
    return names


def test_table_matches_objdump(tmp_path):
    rows = [(n, c, v, x) for n, c, v, x in isa.INSTRUCTIONS if n not in CONTAINERS]
    words = [encode(*row) for row in rows]
    names = objdump_words(words, tmp_path)
    assert len(names) == len(rows)
    wrong = []
    for (name, cls, value, _), got, word in zip(rows, names, words):
        ok = ALIASES.get(name, {name})
        if got.split(".")[0] not in ok and got not in ok:
            wrong.append(f"{name} ({cls} 0x{value:02x}, word 0x{word:08x}): objdump says {got}")
    assert not wrong, "\n".join(wrong)


def test_our_disassembler_agrees_on_mnemonics(tmp_path):
    rows = [(n, c, v, x) for n, c, v, x in isa.INSTRUCTIONS if n not in CONTAINERS]
    for row in rows:
        name, word = row[0], encode(*row)
        assert isa.decode(word)[0] == name, (name, hex(word))


def test_generated_constants():
    assert isa.OP_LW == 0x23 and isa.F_ADDU == 0x21 and isa.CO_ERET == 0x18
    assert isa.MEM_SIZE[isa.OP_LH] == 2 and isa.MEM_ALIGN[isa.OP_LW] == 3
    assert isa.MEM_STORE[isa.OP_SWR] == 1 and isa.MEM_SIZE[isa.OP_CACHE] == 0
