"""Differential test: random MIPS32r2 programs on discovm and on qemu-system-mipsel -M malta.

Each seed gives one random body of ~300 instructions (tests/randprog.py); RANDPROG_BATCH
bodies (default 10) share one program run, so that a machine boots once for several
bodies.  Every body dumps its 32 GPRs, HI, LO and data buffer; the dumps must agree.

Environment:
    RANDPROG_SEEDS   "N" (seeds 1..N) or "BASE:N" (seeds BASE..BASE+N-1); default 60
    RANDPROG_BATCH   bodies a program run (default 10)
    RANDPROG_INSNS   instructions a body (default 300)

A failure names the seed and the registers that differ, and keeps the batch's .S files
and a one-body reproducer per failing seed (paths in the message); rerun one with
`python tests/randprog.py SEED --run`.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import randprog  # noqa: E402


def _seeds():
    spec = os.environ.get("RANDPROG_SEEDS", "60")
    base, _, count = spec.rpartition(":")
    base = int(base) if base else 1
    return list(range(base, base + int(count)))


SEEDS = _seeds()
BATCH = max(1, int(os.environ.get("RANDPROG_BATCH", "10")))
INSNS = int(os.environ.get("RANDPROG_INSNS", "300"))
BATCHES = [SEEDS[i:i + BATCH] for i in range(0, len(SEEDS), BATCH)]


def _need_tools():
    missing = [t for t in (randprog.CROSS + "gcc", "qemu-system-mipsel") if not shutil.which(t)]
    if missing:
        pytest.fail(f"missing tools: {', '.join(missing)} (run scripts/install-deps.sh)")


# ---- the generator itself --------------------------------------------------------------

def test_generator_is_deterministic_per_seed():
    a, _ = randprog.program([7, 8, 9], "discovm")
    b, _ = randprog.program([7, 8, 9], "discovm")
    assert a == b
    assert randprog.Body(7).lines == randprog.Body(7).lines
    assert randprog.Body(7).lines != randprog.Body(8).lines
    # a body does not depend on its neighbours in the batch
    assert randprog.Body(8).lines == randprog.program([1, 8], "malta")[1][1].lines


def test_targets_differ_only_in_device_constants():
    d, _ = randprog.program([3, 4], "discovm")
    m, _ = randprog.program([3, 4], "malta")
    dl, ml = d.splitlines(), m.splitlines()
    assert len(dl) == len(ml)
    for x, y in zip(dl, ml):
        if x != y:
            assert x.split()[0] in ("lui", "ori", "/*"), (x, y)


def test_generator_covers_every_instruction():
    seen = set()
    counts = []
    for seed in range(1, 31):
        b = randprog.Body(seed)
        seen |= b.mnemonics()
        counts.append(b.count)
    assert not set(randprog.ALL_MNEMONICS) - seen
    assert min(counts) >= 300


def test_parse_and_compare():
    text = ("junk\n@@ body 0000000c\nr00 00000000\nr05 deadbeef\nhi  00000001\n"
            "lo  00000002\nm00 00000001 00000002\ncsum 0000abcd\n@@ end\n@@ done\n")
    dumps, done, exc = randprog.parse(text)
    assert done and exc is None
    assert dumps == {12: {"r00": 0, "r05": 0xDEADBEEF, "hi": 1, "lo": 2, "m00": 1, "m01": 2,
                          "csum": 0xABCD}}
    other = dict(dumps[12], r05=0, hi=7)
    assert randprog.compare(dumps[12], other, {"hi"}) == [("r05", 0xDEADBEEF, 0)]


def test_both_builds_have_the_same_layout(tmp_path):
    """Link addresses (bal, jal, jalr) are compared: code and data must sit at the same
    addresses in the builds for both machines."""
    _need_tools()
    elfs = [randprog.build([1, 2], t, str(tmp_path / t))[0] for t in ("discovm", "malta")]
    syms = []
    for elf in elfs:
        out = subprocess.run([randprog.CROSS + "nm", "-n", elf], capture_output=True,
                             text=True, check=True).stdout
        syms.append(out)
    assert syms[0] == syms[1]
    assert re.search(r"^(ffffffff)?80100000 T _start$", syms[0], re.M)


# ---- the differential runs -------------------------------------------------------------

@pytest.mark.parametrize("seeds", BATCHES, ids=[f"seeds{b[0]}-{b[-1]}" for b in BATCHES])
def test_random_program(seeds, tmp_path):
    _need_tools()
    problems, srcs = randprog.differential(seeds, str(tmp_path), INSNS)
    if not problems:
        return
    bad = sorted({s for s, _ in problems if s is not None})
    kept = randprog.keep_reproducers(bad, str(tmp_path), INSNS) if bad else []
    lines = ["discovm and QEMU disagree:"] + [m for _, m in problems]
    lines.append("programs kept: " + ", ".join(srcs))
    if kept:
        lines.append("one-body reproducers: " + ", ".join(kept))
        lines.append("rerun: python tests/randprog.py " + " ".join(map(str, bad)) + " --run")
    pytest.fail("\n".join(lines), pytrace=False)
