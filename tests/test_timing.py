"""Timing mode: caches, local and remote misses, FLASH-style per-page counters."""

import json

from asmutil import assemble, discovm

# CPU 0 (node 0 of 2) reads 256 KiB of node 0's memory, then 256 KiB of node 1's, one word
# per 128-byte line, twice: the second pass hits in the 1 MiB 2-way cache (the buffers start
# 4 KiB into their pages so that they do not share a set with the program's code).
STREAM = r"""
    .set noreorder
    .globl _start
_start:
    li      $s0, 0x80401000         # physical 4 MiB: node 0 (RAM 0-32 MiB)
    jal     stream
    nop
    li      $s0, 0x82801000         # physical 40 MiB: node 1 (RAM 32-64 MiB)
    jal     stream
    nop
    li      $s0, 0x80401000         # again: now cached
    jal     stream
    nop
    li      $s0, 0x82801000
    jal     stream
    nop
    li      $t0, 0xBF001000
    sw      $zero, 0($t0)
1:  b       1b
    nop
stream:
    li      $t1, 2048               # lines
2:  lw      $t2, 0($s0)
    addiu   $s0, $s0, 128
    addiu   $t1, $t1, -1
    bnez    $t1, 2b
    nop
    jr      $ra
    nop
"""


def test_local_remote_split_and_page_counters(tmp_path):
    elf = assemble(STREAM, tmp_path / "stream.elf")
    stats = tmp_path / "stats.json"
    p = discovm("run", "--kernel", elf, "--timing", "--nodes", 2, "--cpus", 2,
                "--stats", stats)
    assert p.returncode == 0, p.stderr
    data = json.loads(stats.read_text())
    cache = data["cpus"][0]["cache"]
    # 2048 lines of node 1: every one a remote miss, and nothing else is remote
    assert cache["misses_remote"] == 2048
    # 2048 lines of node 0 plus the program's own code line(s)
    assert 2048 <= cache["misses_local"] <= 2048 + 4
    pages = data["page_misses"]
    for k in range(64):                             # 256 KiB = 64 pages of 32 lines each
        assert pages[f"0x{0x00401000 + k * 4096:08x}"] == [32, 0]
        assert pages[f"0x{0x02801000 + k * 4096:08x}"] == [32, 0]   # counted for node 0
    lat = data["latency_cycles"]
    assert (lat["local"], lat["remote"]) == (60, 180)   # 300/900 ns at 200 MHz
    stall = data["cpus"][0]["cycles"] - data["cpus"][0]["instructions"]
    assert stall == cache["misses_local"] * 60 + cache["misses_remote"] * 180


def test_functional_mode_has_no_cache_figures(tmp_path):
    elf = assemble(STREAM, tmp_path / "stream.elf")
    stats = tmp_path / "stats.json"
    p = discovm("run", "--kernel", elf, "--stats", stats)
    assert p.returncode == 0
    data = json.loads(stats.read_text())
    assert "cache" not in data["cpus"][0]
    assert data["cycles"] == data["instructions"]
