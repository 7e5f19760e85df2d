"""The multiprocessor: CPU start, ll/sc across CPUs, determinism, UART input."""

import json

import pytest

from asmutil import assemble, discovm

# Every CPU increments a shared counter K times inside an ll/sc spinlock; the increment
# itself is a plain load/add/store, so a lock that let two CPUs in would lose updates
# (CPUs switch every quantum, possibly between the load and the store).  Then each CPU
# counts itself out with an ll/sc increment of `done` and stops; CPU 0 waits for all and
# prints the counter in hex.
SPINLOCK = r"""
    .set noreorder
    .set noat
    .equ IPI, 0xBF003000
    .equ K, 5000
    .globl _start
_start:
    li      $s7, IPI
    lw      $s6, 0($s7)             # number of CPUs
    la      $t0, worker
    sw      $t0, 0x08($s7)          # START_PC
    li      $t1, 1
1:  beq     $t1, $s6, 2f
    nop
    sw      $t1, 0x0C($s7)          # START_ARG = CPU number
    sw      $t1, 0x10($s7)          # START
    b       1b
    addiu   $t1, $t1, 1
2:  jal     work
    li      $a0, 0
3:  la      $t0, done               # wait until every CPU has finished
    lw      $t1, 0($t0)
    bne     $t1, $s6, 3b
    nop
    la      $t0, counter
    lw      $a0, 0($t0)
    jal     print_hex
    nop
    la      $a0, newline
    j       puts_and_exit
    li      $a1, 0

worker:                             # secondary CPUs start here with a0 = CPU number
    move    $s0, $a0
    jal     work
    nop
    li      $t0, IPI
    sw      $s0, 0x18($t0)          # STOP myself
4:  b       4b
    nop

work:
    li      $t9, K
    la      $t8, lock
    la      $t7, counter
5:  ll      $t0, 0($t8)             # acquire
    bnez    $t0, 5b
    li      $t0, 1
    sc      $t0, 0($t8)
    beqz    $t0, 5b
    nop
    lw      $t1, 0($t7)             # critical section: a plain read-modify-write,
    li      $t2, 16                 # made long so that quanta often end inside it
9:  addiu   $t2, $t2, -1
    bnez    $t2, 9b
    nop
    addiu   $t1, $t1, 1
    sw      $t1, 0($t7)
    sync
    sw      $zero, 0($t8)           # release
    addiu   $t9, $t9, -1
    bnez    $t9, 5b
    nop
    la      $t8, done
6:  ll      $t0, 0($t8)
    addiu   $t0, $t0, 1
    sc      $t0, 0($t8)
    beqz    $t0, 6b
    nop
    jr      $ra
    nop

print_hex:                          # prints $a0 as 8 hex digits
    li      $t0, 0xBF000000
    li      $t1, 8
7:  srl     $t2, $a0, 28
    sltiu   $t3, $t2, 10
    bnez    $t3, 8f
    addiu   $t2, $t2, 48
    addiu   $t2, $t2, 39
8:  sb      $t2, 0($t0)
    sll     $a0, $a0, 4
    addiu   $t1, $t1, -1
    bnez    $t1, 7b
    nop
    jr      $ra
    nop

    .data
    .align  7
lock:       .word 0
    .align  7
counter:    .word 0
    .align  7
done:       .word 0
newline:    .asciz "\n"
"""


ACQUIRE = """5:  ll      $t0, 0($t8)             # acquire
    bnez    $t0, 5b
    li      $t0, 1
    sc      $t0, 0($t8)
    beqz    $t0, 5b
    nop
"""


@pytest.fixture(scope="module")
def spinlock(tmp_path_factory):
    return assemble(SPINLOCK, tmp_path_factory.mktemp("smp") / "spinlock.elf")


@pytest.mark.parametrize("cpus", [1, 4, 8])
def test_llsc_spinlock_counter(spinlock, cpus, tmp_path):
    stats = tmp_path / "stats.json"
    p = discovm("run", "--kernel", spinlock, "--cpus", cpus, "--stats", stats)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{cpus * 5000:08x}\n"
    data = json.loads(stats.read_text())
    assert len(data["cpus"]) == cpus
    assert all(c["instructions"] > 5000 * 50 for c in data["cpus"])


def test_without_the_lock_updates_are_lost(tmp_path):
    """Control: the same program without its lock loses increments, so the test above
    would notice a broken ll/sc."""
    racy = SPINLOCK.replace(ACQUIRE, "5:\n")
    assert racy != SPINLOCK
    elf = assemble(racy, tmp_path / "racy.elf")
    p = discovm("run", "--kernel", elf, "--cpus", 4)
    assert p.returncode == 0, p.stderr
    assert int(p.stdout, 16) < 4 * 5000


def test_runs_are_deterministic(spinlock, tmp_path):
    """Same program, same configuration: the same output and the same counters."""
    runs = []
    for k in range(2):
        stats = tmp_path / f"stats{k}.json"
        p = discovm("run", "--kernel", spinlock, "--cpus", 4, "--nodes", 2, "--timing",
                    "--stats", stats)
        assert p.returncode == 0, p.stderr
        runs.append((p.stdout, stats.read_text()))
    assert runs[0] == runs[1]
    assert json.loads(runs[0][1])["cpus"][3]["cache"]["invalidations"] > 0


ECHO = r"""
    .set noreorder
    .globl _start
_start:
    li      $t0, 0xBF000000
1:  lbu     $t1, 5($t0)             # LSR
    andi    $t1, $t1, 1             # DR: a byte has arrived
    beqz    $t1, 1b
    nop
    lbu     $t2, 0($t0)             # RBR
    sltiu   $t3, $t2, 0x61          # lower case -> upper case
    bnez    $t3, 2f
    nop
    addiu   $t2, $t2, -32
2:  sb      $t2, 0($t0)
    li      $t3, 10
    bne     $t2, $t3, 1b
    nop
    li      $t0, 0xBF001000
    sw      $zero, 0($t0)
3:  b       3b
    nop
"""


def test_uart_receives_stdin(tmp_path):
    elf = assemble(ECHO, tmp_path / "echo.elf")
    p = discovm("run", "--kernel", elf, "--max-instructions", "50000000", input="hello\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "HELLO\n"


# CPU 0 starts the others; each installs the exception vectors, enables IP4 and sleeps in
# WAIT.  CPU 0 sends every one of them an IPI; the handler acknowledges it, marks the CPU's
# flag and the CPU stops itself.  CPU 0 waits for all flags and for all CPUs to stop.
IPI = r"""
    .set noreorder
    .set noat
    .equ DEV, 0xBF003000
    .globl _start
_start:
    li      $s7, DEV
    lw      $s6, 0($s7)             # number of CPUs
    la      $t0, secondary
    sw      $t0, 0x08($s7)          # START_PC
    li      $s0, 1
1:  beq     $s0, $s6, 2f
    nop
    sw      $s0, 0x0C($s7)          # START_ARG
    sw      $s0, 0x10($s7)          # START
    b       1b
    addiu   $s0, $s0, 1
2:  li      $t1, 0                  # let them reach WAIT, then interrupt each one
3:  addiu   $t1, $t1, 1
    li      $t2, 100000
    bne     $t1, $t2, 3b
    nop
    li      $s0, 1
4:  beq     $s0, $s6, 5f
    nop
    sw      $s0, 0x20($s7)          # SEND
    b       4b
    addiu   $s0, $s0, 1
5:  li      $s0, 1                  # wait for every flag
    la      $t3, flags
6:  beq     $s0, $s6, 8f
    sll     $t0, $s0, 2
    addu    $t0, $t0, $t3
7:  lw      $t1, 0($t0)
    beqz    $t1, 7b
    nop
    b       6b
    addiu   $s0, $s0, 1
8:  lw      $t0, 0x14($s7)          # RUNNING: wait until only CPU 0 is left
    li      $t1, 1
    bne     $t0, $t1, 8b
    nop
    la      $a0, msg
    j       puts_and_exit
    li      $a1, 0

secondary:
    la      $t0, vectors
    mtc0    $t0, $15, 1             # EBase
    li      $t0, (1 << 12) | 1      # IM4 | IE
    mtc0    $t0, $12
    ehb
9:  wait
    b       9b
    nop

    .align  12
vectors:
    .org    vectors + 0x180
    li      $k0, DEV
    sw      $zero, 0x24($k0)        # CLEAR my IPI
    lw      $k1, 0x04($k0)          # who am I
    sll     $k1, $k1, 2
    la      $t0, flags
    addu    $t0, $t0, $k1
    li      $t1, 1
    sw      $t1, 0($t0)
    srl     $k1, $k1, 2
    sw      $k1, 0x18($k0)          # STOP myself
10: b       10b
    nop

    .data
flags:  .space 128
msg:    .asciz "all IPIs delivered\n"
"""


@pytest.mark.parametrize("cpus", [2, 8])
def test_ipis_reach_every_cpu(cpus, tmp_path):
    elf = assemble(IPI, tmp_path / "ipi.elf")
    stats = tmp_path / "stats.json"
    p = discovm("run", "--kernel", elf, "--cpus", cpus, "--stats", stats,
                "--max-instructions", "50000000")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "all IPIs delivered\n"
    data = json.loads(stats.read_text())
    assert data["ipi"]["sent"] == cpus - 1
    for c in data["cpus"][1:]:
        assert c["interrupts"] == 1 and c["idle_cycles"] > 0
