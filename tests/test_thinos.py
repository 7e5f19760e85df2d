"""The thin OS (guests/thinos, like the paper's SPLASHOS, section 4.4) on the bare machine.

Its programs are built with make into a temporary directory and run on 1, 2 and 4
CPUs (and radix also in timing mode on two NUMA nodes): each must exit with status 0, print its "ok" line, and print exactly the same
output on every number of CPUs (the programs are written so that it cannot depend on
it).  The problem sizes are passed to make, as a user would change them.
"""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
THINOS = ROOT / "guests" / "thinos"
SIZES = {"RADIX_N": 262144, "MATMUL_N": 128}     # the defaults, spelled out
CPUS = (1, 2, 4)


@pytest.fixture(scope="module")
def elfs(tmp_path_factory):
    if shutil.which("mipsel-linux-gnu-gcc") is None:
        pytest.skip("mipsel-linux-gnu-gcc is not installed (scripts/install-deps.sh)")
    out = tmp_path_factory.mktemp("thinos")
    p = subprocess.run(["make", "-s", "-C", str(THINOS), f"OUT={out}",
                        *(f"{k}={v}" for k, v in SIZES.items())],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def run(elf, cpus, *flags):
    p = subprocess.run([sys.executable, "-m", "discovm", "run", "--kernel", str(elf),
                        "--cpus", str(cpus), "--mem", "64M", *flags,
                        "--max-instructions", "100000000"],
                       capture_output=True, text=True, timeout=120)
    return p.stdout, p.returncode, p.stderr


@pytest.mark.parametrize("prog", ["radix", "matmul"])
def test_same_output_on_any_number_of_cpus(elfs, prog):
    outputs = {}
    for cpus in CPUS:
        out, status, err = run(elfs / f"{prog}.elf", cpus)
        assert status == 0, f"{cpus} CPUs: status {status}\n{out}{err}"
        assert out.rstrip().endswith(f"{prog}: ok"), f"{cpus} CPUs:\n{out}"
        outputs[cpus] = out
    assert outputs[2] == outputs[1]
    assert outputs[4] == outputs[1]


def test_radix_numa_timing(elfs):
    """Timing mode, 4 CPUs on 2 NUMA nodes: same output (all data is on node 0)."""
    out1, _, _ = run(elfs / "radix.elf", 1)
    out, status, err = run(elfs / "radix.elf", 4, "--nodes", "2", "--timing")
    assert status == 0, out + err
    assert out == out1


def test_radix_output(elfs):
    """The values a correct sort of the keys gives (worked out on the host)."""
    out, status, _ = run(elfs / "radix.elf", 2)
    keys = sorted(_key(i) for i in range(SIZES["RADIX_N"]))
    n = len(keys)
    weighted = sum(k * (i + 1) for i, k in enumerate(keys)) & 0xFFFFFFFF
    assert f"keys[0] = {keys[0]:08x}, keys[{n // 2}] = {keys[n // 2]:08x}, " \
           f"keys[{n - 1}] = {keys[n - 1]:08x}" in out
    assert f"checksum (sum of key * (index + 1)): {weighted:08x}" in out


def _key(i):
    """radix.c's key_of()."""
    m = 0xFFFFFFFF
    h = (i * 0x9E3779B9 + 0x7F4A7C15) & m
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & m
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & m
    h ^= h >> 16
    return h
