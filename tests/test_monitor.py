"""The monitor: several VMs side by side, Linux in a VM, isolation, configuration errors."""

import json
import pathlib
import subprocess

import pytest

from asmutil import assemble, discovm
from guestrun import BUILD, GUESTS, elf_path

# An adversarial guest (paper 4.2: the monitor must contain whatever a guest does):
# random TLB entries pointing anywhere, random values into random CP0 registers, loads and
# stores at random addresses (what it loads goes into what it stores), and finally a
# random Status and a jump into garbage; its own exception handler skips every faulting
# instruction so that it keeps going.  (Status gets its random value last: with BEV or a
# user-mode KSU the handler is gone, and the adversary would end within a few rounds.)
ADVERSARY = r"""
    .set noreorder
    .set noat
    .globl _start
_start:
    mtc0    $zero, $12
    la      $t0, vectors
    mtc0    $t0, $15, 1
    li      $s0, 12345              # LCG state
    li      $s1, 3000               # rounds
    li      $s2, 1103515245
loop:
    mul     $s0, $s0, $s2
    addiu   $s0, $s0, 12345
    srl     $t1, $s0, 28
    andi    $t1, $t1, 3
    beqz    $t1, tlb
    addiu   $t1, $t1, -1
    beqz    $t1, cp0
    addiu   $t1, $t1, -1
    beqz    $t1, store
    nop
    b       next                    # 1 in 4: nothing
    nop
tlb:
    mtc0    $s0, $10                # EntryHi: any page, any ASID
    mul     $t2, $s0, $s2
    mtc0    $t2, $2                 # EntryLo0: any frame, any flags
    srl     $t3, $t2, 3
    mtc0    $t3, $3
    andi    $t4, $s0, 15
    mtc0    $t4, $0
    tlbwi
    srl     $t6, $s0, 2             # load and store through whatever that maps
    sll     $t6, $t6, 2
    lw      $t5, 0($t6)
    addu    $s3, $s3, $t5
    b       next
    sw      $s3, 0($t6)
cp0:
    mul     $t2, $s0, $s2
    srl     $t3, $s0, 20            # a CP0 register number 0..31 (sel 0)
    andi    $t3, $t3, 31
    la      $t4, mtc0_table
    sll     $t3, $t3, 3
    addu    $t4, $t4, $t3
    jr      $t4
    nop
store:
    srl     $t6, $s0, 2             # any (word-aligned) address
    sll     $t6, $t6, 2
    lw      $t5, 0($t6)             # what it reads goes into what it writes, so its
    addu    $s3, $s3, $t5           # memory digest depends on everything it could read
    sw      $s3, 0($t6)
    sb      $s2, 1($t6)
next:
    addiu   $s1, $s1, -1
    bnez    $s1, loop
    nop
    mul     $t2, $s0, $s2           # last, a random Status, with BEV so that ...
    lui     $t3, 0x0040
    or      $t2, $t2, $t3
    mtc0    $t2, $12
    lui     $t0, 0x1234             # ... the jump into garbage ends in the boot ROM
    jr      $t0
    nop

mtc0_table:
    .irp reg, 0,1,2,3,4,5,6,7,8,9,10,11,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,10
    mtc0    $t2, $\reg
    b       next
    .endr

    .align  12
vectors:                            # every exception: skip the instruction, carry on
    .org    vectors + 0x000
    b       skip
    nop
    .org    vectors + 0x180
skip:
    mfc0    $k0, $14
    addiu   $k0, $k0, 4
    mtc0    $k0, $14
    mtc0    $zero, $12, 0
    li      $k1, 2
    mtc0    $k1, $12                # EXL only: kernel mode after eret... of the guest
    eret
    nop
"""


@pytest.fixture(scope="module")
def adversary(tmp_path_factory):
    return assemble(ADVERSARY, tmp_path_factory.mktemp("adv") / "adversary.elf")


def _toml(value):
    if isinstance(value, dict):                     # an inline table
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def write_config(path, machine, vms, asid_reuse=False):
    lines = ["[machine]"] + [f"{k} = {v!r}".replace("'", '"') for k, v in machine.items()]
    lines += ["[monitor]", f"asid_reuse = {str(asid_reuse).lower()}"]
    for vm in vms:
        lines.append("[[vm]]")
        lines += [f"{k} = {_toml(v)}" for k, v in vm.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def vm_lines(out, name):
    prefix = f"[{name}] "
    return [line[len(prefix):] for line in out.splitlines() if line.startswith(prefix)]


def test_two_vms_side_by_side(tmp_path):
    hello = str(elf_path("hello", "discovm"))
    alu = str(elf_path("alu", "discovm"))
    cfg = write_config(tmp_path / "two.toml", {"cpus": 2, "memory": "64M"},
                       [{"name": "a", "memory": "16M", "guest": hello},
                        {"name": "b", "memory": "16M", "guest": alu}])
    p = discovm("run", "--config", cfg, "--stats", tmp_path / "s.json")
    assert p.returncode == 0, p.stderr
    assert vm_lines(p.stdout, "a") == ["Hello from discovm!"]
    alone = discovm("run", "--kernel", alu)
    assert vm_lines(p.stdout, "b") == alone.stdout.splitlines()
    assert "vm/vcpu" in p.stderr                     # the statistics table
    stats = json.loads((tmp_path / "s.json").read_text())["monitor"]
    assert [v["exit_status"] for v in stats["vms"]] == [0, 0]


@pytest.mark.parametrize("asid_reuse", [False, True])
def test_more_vms_than_cpus(tmp_path, asid_reuse):
    """Six VMs take turns on two CPUs (short multiprocessor quanta), among them the TLB,
    user-mode and interrupt tests.  With ASID reuse their TLB entries share each CPU's
    TLB across world switches (machine ASIDs): a leak between them would change an
    output."""
    progs = ["hello", "alu", "tlb", "user", "irq", "muldiv"]
    cfg = write_config(tmp_path / "six.toml", {"cpus": 2, "memory": "64M"},
                       [{"name": f"v{k}", "memory": "8M",
                         "guest": str(elf_path(name, "discovm"))}
                        for k, name in enumerate(progs)], asid_reuse=asid_reuse)
    p = discovm("run", "--config", cfg, "--stats", tmp_path / "s.json")
    assert p.returncode == 0, p.stderr
    for k, name in enumerate(progs):
        alone = discovm("run", "--kernel", elf_path(name, "discovm"))
        assert vm_lines(p.stdout, f"v{k}") == alone.stdout.splitlines()
    stats = json.loads((tmp_path / "s.json").read_text())["monitor"]
    switches = sum(v["world_switches"] for vm in stats["vms"] for v in vm["vcpus"])
    assert switches > 2 * len(progs)                 # they did take turns
    assert stats["tlb_on_switch"] == ("asid-reuse" if asid_reuse else "flush")
    # flush mode: at least one flush per switch to another VCPU; reuse: only rollovers
    flushes = sum(stats["tlb_flushes"])
    assert flushes >= switches if not asid_reuse else flushes < switches // 10


# ---- isolation (issue 5): adversaries next to a neighbour -------------------------------
# Each adversary runs beside a well-behaved neighbour (the alu test program, whose output
# and final memory do not depend on scheduling: it never reads Count).  The neighbour's
# output and memory digest must equal those of a run without the adversary; the
# adversary must end with a clear reason of its own.

ISOLATION_MACHINE = {"cpus": 2, "memory": "128M"}
NEIGHBOUR = {"name": "good", "memory": "16M", "guest": str(elf_path("alu", "discovm"))}


def run_vms(tmp_path, name, vms, *args, cpus=2, asid_reuse=False):
    """Run ``vms`` on the isolation machine; returns the CompletedProcess, the monitor's
    statistics and its per-VM statistics by VM name."""
    cfg = write_config(tmp_path / f"{name}.toml", dict(ISOLATION_MACHINE, cpus=cpus), vms,
                       asid_reuse)
    stats = tmp_path / f"{name}.json"
    p = discovm("run", "--config", cfg, "--stats", stats, *args)
    assert "Traceback" not in p.stderr, p.stderr
    mon = json.loads(stats.read_text())["monitor"]
    return p, mon, {v["name"]: v for v in mon["vms"]}


@pytest.fixture(scope="module")
def neighbour_alone(tmp_path_factory):
    """The neighbour's output and memory digest in a run without any adversary."""
    tmp = tmp_path_factory.mktemp("alone")
    p, _, vms = run_vms(tmp, "alone", [NEIGHBOUR])
    assert p.returncode == 0, p.stderr
    # The comparison is only fair if the neighbour's memory does not depend on how it is
    # scheduled: the same on one CPU as on two.
    cfg = write_config(tmp / "one.toml", dict(ISOLATION_MACHINE, cpus=1), [NEIGHBOUR])
    one = discovm("run", "--config", cfg, "--stats", tmp / "one.json")
    digest = vms["good"]["memory_sha256"]
    assert one.returncode == 0 and json.loads((tmp / "one.json").read_text())["monitor"]["vms"][0][
        "memory_sha256"] == digest
    return vm_lines(p.stdout, "good"), digest


def assert_undisturbed(p, vms, neighbour_alone):
    lines, digest = neighbour_alone
    good = vms["good"]
    assert good["exit_status"] == 0 and good["error"] is None, good
    assert vm_lines(p.stdout, "good") == lines
    assert good["memory_sha256"] == digest, "the adversary changed its neighbour's memory"


@pytest.mark.parametrize("cpus,asid_reuse", [(2, False), (1, True)],
                         ids=["two-cpus", "one-cpu-asid-reuse"])
def test_adversary_cannot_disturb_its_neighbour(adversary, tmp_path, neighbour_alone, cpus,
                                                asid_reuse):
    """Two CPUs: the VMs run at the same time.  One CPU with ASID-preserving reuse: they
    take turns on one TLB that keeps both VMs' entries across world switches."""
    evil = {"name": "evil", "memory": "8M", "guest": str(adversary)}
    p, mon, vms = run_vms(tmp_path, "adv", [NEIGHBOUR, evil], "--max-instructions", 30_000_000,
                          cpus=cpus, asid_reuse=asid_reuse)
    assert_undisturbed(p, vms, neighbour_alone)
    # What the adversary read through its random mappings went into its own memory: that
    # memory is the same without the neighbour, so none of it came from the neighbour.
    _, _, alone = run_vms(tmp_path, "evil", [evil], "--max-instructions", 30_000_000)
    assert vms["evil"]["memory_sha256"] == alone["evil"]["memory_sha256"]
    # It ended in the boot ROM (its last Status has BEV), reported on one line, inside
    # its own memory.
    evil = vms["evil"]
    assert evil["exit_status"] == 0xFE and "no handler" in evil["exit_reason"], evil
    assert f"[evil] powered off with status 0xFE: {evil['exit_reason']}\n" in p.stderr
    assert evil["pages_allocated"] <= (8 << 20) // 4096
    assert mon["machine_pages_used"] == vms["good"]["pages_allocated"] + evil["pages_allocated"]


@pytest.fixture(scope="module")
def virtio_guests(tmp_path_factory):
    out = tmp_path_factory.mktemp("virtio")
    subprocess.run(["make", "-s", "-C", str(GUESTS / "virtio"), f"OUT={out}"], check=True)
    return out


def test_wild_dma_cannot_reach_other_vms(virtio_guests, tmp_path, neighbour_alone):
    """guests/virtio/wilddma.c gives its disk DMA addresses outside its RAM: past its end,
    in the device window and the ROM, above 4 GiB with its own RAM in the low half, wrapping
    past 4 GiB, huge lengths; and puts the rings themselves there.  The monitor translates
    every DMA address through the pmap after checking it (paper 4.2.4): the device must
    refuse each one exactly as the bare machine's device does, and count the errors."""
    elf = virtio_guests / "wilddma.elf"
    zeros = bytes(512 * 64)
    img, bare_img = tmp_path / "disk.img", tmp_path / "bare.img"
    img.write_bytes(zeros)
    bare_img.write_bytes(zeros)
    evil = {"name": "evil", "memory": "8M", "guest": str(elf),
            "disks": [{"image": str(img), "persistent": False}]}
    p, _, vms = run_vms(tmp_path, "dma", [NEIGHBOUR, evil], "--max-instructions", 20_000_000)
    assert_undisturbed(p, vms, neighbour_alone)
    bare = discovm("run", "--kernel", elf, "--mem", "8M", "--disk", bare_img,
                   "--max-instructions", 20_000_000, "--stats", tmp_path / "bare.json")
    assert bare.returncode == 0 and "every attack refused" in bare.stdout, bare.stdout
    out = vm_lines(p.stdout, "evil")
    assert out == bare.stdout.splitlines()
    assert vms["evil"]["exit_status"] == 0 and vms["evil"]["error"] is None
    # The VM's device counted one error per refused attack, as the bare machine's did.
    refused = sum(": refused (" in line for line in out)
    errors = vms["evil"]["devices"]["virtio0"]["errors"]
    bare_errors = json.loads((tmp_path / "bare.json").read_text())["devices"]["virtio0"]["errors"]
    assert refused > 30 and errors == bare_errors == refused
    assert img.read_bytes() == zeros and bare_img.read_bytes() == zeros


# Kernels that jump into garbage.  Without a handler (the reset state: Status.BEV = 1) the
# exception goes to the boot ROM, which powers the machine off with 0xFE; in a VM the
# monitor says which exception it was.  With a handler installed, the handler reports
# ExcCode and EPC (as a pair of hex words) and powers off with status 3.
NO_HANDLER = r"""
    .set noreorder
    .globl _start
_start:                             # reset state: Status.BEV = ERL = 1, no handler
    li      $t0, {target}
    jr      $t0
    nop
"""

WITH_HANDLER = r"""
    .set noreorder
    .globl _start
_start:
    la      $t0, vectors
    mtc0    $t0, $15, 1             # EBase, while BEV is still set
    mtc0    $zero, $12              # Status = 0: BEV off, kernel mode
    ehb
    la      $t0, {target}
    jr      $t0
    nop

puthex:                             # print $a0 as 8 hex digits
    lui     $t0, 0xbf00
    li      $t1, 28
1:  srlv    $t2, $a0, $t1
    andi    $t2, $t2, 15
    la      $t3, digits
    addu    $t3, $t3, $t2
    lbu     $t3, 0($t3)
    sb      $t3, 0($t0)
    addiu   $t1, $t1, -4
    bgez    $t1, 1b
    nop
    jr      $ra
    nop

    .align  12
vectors:                            # TLB refill (+0x000) and general (+0x180) vectors
    b       report
    nop
    .org    vectors + 0x180
report:
    mfc0    $a0, $13                # ExcCode ...
    srl     $a0, $a0, 2
    jal     puthex
    andi    $a0, $a0, 31
    lui     $t0, 0xbf00
    li      $t1, 0x20
    sb      $t1, 0($t0)
    jal     puthex                  # ... and EPC
    mfc0    $a0, $14
    la      $a0, newline
    j       puts_and_exit
    li      $a1, 3

garbage:                            # data that decodes to reserved instructions
    .word   0x60000000, 0x64000000, 0x7C00003B

    .data
digits:  .ascii "0123456789abcdef"
newline: .asciz "\n"
"""

GARBAGE_VECTORS = r"""
    .set noreorder
    .globl _start
_start:                             # its exception vectors are reserved instructions too
    la      $t0, vectors
    mtc0    $t0, $15, 1
    mtc0    $zero, $12
    ehb
    li      $t0, 0x00400000
    jr      $t0
    nop
    .align  12
vectors:
    .fill   1024, 4, 0x60000000
"""

# name: (program, what the VM's one-line report must say)
GARBAGE = {
    "kseg2": (NO_HANDLER.format(target="0xC0000000"),
              "TLBL (TLB miss on load or fetch) at EPC 0xc0000000, BadVAddr 0xc0000000"),
    "misaligned": (NO_HANDLER.format(target="0xDEADBEEF"),
                   "AdEL (address error on load or fetch) at EPC 0xdeadbeef"),
    # 16 MiB in kseg1: outside its 8 MiB, where a neighbour's memory may well be
    "beyond": (NO_HANDLER.format(target="0xA1000000"), "IBE (bus error on fetch)"),
    # never-touched (zero) memory runs as NOPs into the device tree's bytes
    "sled": (NO_HANDLER.format(target="0x807E0000"), "RI (reserved instruction)"),
    "rom": (WITH_HANDLER.format(target="0xBFC00000"), "jumped into the boot ROM"),
    "reserved": (WITH_HANDLER.format(target="garbage"), None),
    "unmapped": (WITH_HANDLER.format(target="0x00400000"), None),
    "loop": (GARBAGE_VECTORS, None),
}
GARBAGE_LIMIT = 250_000         # --max-instructions: what stops "loop"


def run_bare(elf, mem_size, max_instructions):
    """(console output, exit status) of ``elf`` alone on a bare machine, as ``discovm run
    --kernel ELF --mem SIZE --max-instructions N`` would give them (124: ran away), but in
    this process: eight of them cost less than one start of the command."""
    from discovm.hw.board import attach_board
    from discovm.hw.devicetree import machine_dtb
    from discovm.hw.machine import Machine, MachineError
    out = bytearray()
    m = Machine(mem_size=mem_size, console=out.append)
    attach_board(m)
    m.load_kernel(str(elf), dtb=machine_dtb(m))
    try:
        status = m.run(max_instructions=max_instructions)
    except MachineError:
        status = 124
    return out.decode(), status


def test_kernels_that_jump_into_garbage(tmp_path, neighbour_alone):
    """Eight garbage kernels at once beside the neighbour; each ends as it does on the
    bare machine (same output, same exit status), with a one-line report per VM."""
    elfs = {name: assemble(src, tmp_path / f"{name}.elf") for name, (src, _) in GARBAGE.items()}
    evil = [{"name": name, "memory": "8M", "guest": str(elf)} for name, elf in elfs.items()]
    p, _, vms = run_vms(tmp_path, "garbage", [NEIGHBOUR] + evil,
                        "--max-instructions", GARBAGE_LIMIT)
    assert_undisturbed(p, vms, neighbour_alone)
    for name, elf in elfs.items():
        bare_out, bare_status = run_bare(elf, 8 << 20, GARBAGE_LIMIT)
        vm, (_, says) = vms[name], GARBAGE[name]
        assert vm_lines(p.stdout, name) == bare_out.splitlines(), name
        if bare_status == 124:                           # the bare machine ran away too
            assert vm["error"] == f"stopped after {GARBAGE_LIMIT} instructions"
            assert f"[{name}] {vm['error']}\n" in p.stderr
            continue
        assert vm["exit_status"] == bare_status, name
        if says is None:                                 # its own handler reported it
            assert bare_status == 3
        else:
            assert bare_status == 0xFE and says in vm["exit_reason"], vm
            assert f"[{name}] powered off with status 0xFE: {vm['exit_reason']}\n" \
                in p.stderr
    # the handlers saw what the architecture says: a reserved instruction, a TLB refill
    assert vm_lines(p.stdout, "reserved")[0].startswith("0000000a 8010")
    assert vm_lines(p.stdout, "unmapped") == ["00000002 00400000"]
    assert vms["loop"]["error"]                          # ran away, and was stopped


@pytest.mark.parametrize("bad,message", [
    ('[[vm]]\nname = "x"\nmemroy = "8M"\n', "unknown key"),
    ('[[vm]]\nname = "x"\n[[vm]]\nname = "x"\n', "same name"),
    ('[[vm]]\nname = "x"\nvcpus = 0\n', "vcpus"),
    ('[[vm]]\nname = "x"\nguest = "/nonexistent.elf"\n', "cannot open"),
])
def test_bad_vm_configuration_is_one_line(tmp_path, bad, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(bad)
    p = discovm("run", "--config", cfg)
    assert p.returncode == 2
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


@pytest.fixture(scope="module")
def debian():
    from discovm.guests import debian
    return debian.fetch()


def test_an_idle_cpu_takes_a_waiting_vcpu(tmp_path):
    """Scheduling (paper 4.2.1): VCPUs are spread over the CPUs as they are created, so
    the two long thin-OS VMs start on the same CPU; when the short ones finish, the idle
    CPU takes one of them and the two run in parallel, in about the time of one."""
    hello = str(elf_path("hello", "discovm"))
    vms = [{"name": "s0", "memory": "8M", "guest": hello},
           {"name": "l1", "memory": "64M", "guest": "thin"},
           {"name": "s2", "memory": "8M", "guest": hello},
           {"name": "l3", "memory": "64M", "guest": "thin"}]
    cfg = write_config(tmp_path / "steal.toml", {"cpus": 2, "memory": "256M"}, vms)
    p = discovm("run", "--config", cfg, "--stats", tmp_path / "s.json")
    assert p.returncode == 0, p.stderr
    one = write_config(tmp_path / "one.toml", {"cpus": 1, "memory": "128M"}, [vms[1]])
    alone = discovm("run", "--config", one, "--stats", tmp_path / "one.json")
    assert vm_lines(p.stdout, "l1") == vm_lines(p.stdout, "l3") == vm_lines(alone.stdout, "l1")
    stats = json.loads((tmp_path / "s.json").read_text())
    moves = {vm["name"]: vm["vcpus"][0]["migrations"] for vm in stats["monitor"]["vms"]}
    assert moves["l1"] + moves["l3"] >= 1 and moves["s0"] == moves["s2"] == 0
    elapsed = max(c["cycles"] for c in stats["cpus"])
    single = json.loads((tmp_path / "one.json").read_text())["cycles"]
    assert elapsed < 1.5 * single            # not one after the other on one CPU


def test_linux_in_a_vm_matches_the_bare_machine(debian):
    from test_linux import MARK, PORTABLE
    runs = []
    for extra in ((), ("--vm",)):
        p = discovm("run", "--linux", "--cmd", f"echo {MARK}; {PORTABLE}", *extra,
                    "--stats", "/dev/null", timeout=600)
        assert p.returncode == 0, p.stderr
        runs.append(p.stdout.split(MARK + "\n", 1)[1])
    assert runs[0] == runs[1]


def test_linux_and_a_bare_metal_guest_side_by_side(debian, tmp_path):
    cfg = write_config(tmp_path / "mixed.toml", {"cpus": 2, "memory": "160M"},
                       [{"name": "linux", "memory": "96M", "guest": "linux",
                         "cmd": "seq 1 1000 | md5sum"},
                        {"name": "alu", "memory": "16M",
                         "guest": str(elf_path("alu", "discovm"))}])
    p = discovm("run", "--config", cfg, timeout=600)
    assert p.returncode == 0, p.stderr
    md5 = subprocess.run("seq 1 1000 | md5sum", shell=True, capture_output=True,
                         text=True).stdout.strip()
    assert md5 in vm_lines(p.stdout, "linux")
    alone = discovm("run", "--kernel", elf_path("alu", "discovm"))
    assert vm_lines(p.stdout, "alu") == alone.stdout.splitlines()


def test_the_demo_linux_beside_the_thin_os(debian, tmp_path):
    """`make demo`'s configuration (examples/demo.toml): on a 4-CPU, 2-node machine,
    Debian's Linux in one VM and the thin OS's parallel radix sort on 3 VCPUs in another,
    side by side (the paper's point); each answers as it does alone."""
    demo = pathlib.Path(__file__).resolve().parents[1] / "examples" / "demo.toml"
    p = discovm("run", "--config", demo, "--stats", tmp_path / "s.json", timeout=600)
    assert p.returncode == 0, p.stderr
    md5 = subprocess.run("seq 1 1000 | md5sum", shell=True, capture_output=True,
                         text=True).stdout.strip()
    linux = vm_lines(p.stdout, "linux")
    assert "6 x 7 = 42" in linux and md5 in linux
    bare = discovm("run", "--kernel", BUILD / "thinos" / "radix.elf", "--cpus", 3)
    assert vm_lines(p.stdout, "splash") == bare.stdout.splitlines()
    vms = json.loads((tmp_path / "s.json").read_text())["monitor"]["vms"]
    assert [vm["exit_status"] for vm in vms] == [0, 0]


@pytest.mark.parametrize("asid_reuse", [False, True])
def test_thin_os_with_four_vcpus_on_two_cpus(tmp_path, asid_reuse):
    """The thin OS (paper 4.4) in a VM: 4 VCPUs time-shared over 2 CPUs, started through
    the VM's virtual CPU-start device, with the same output as on a bare 4-CPU machine."""
    cfg = write_config(tmp_path / "thin.toml", {"cpus": 2, "memory": "128M"},
                       [{"name": "splash", "vcpus": 4, "memory": "64M", "guest": "thin",
                         "program": "radix"}], asid_reuse=asid_reuse)
    p = discovm("run", "--config", cfg, "--stats", tmp_path / "s.json", timeout=600)
    assert p.returncode == 0, p.stderr
    bare = discovm("run", "--kernel", BUILD / "thinos" / "radix.elf", "--cpus", 4)
    assert vm_lines(p.stdout, "splash") == bare.stdout.splitlines()
    vcpus = json.loads((tmp_path / "s.json").read_text())["monitor"]["vms"][0]["vcpus"]
    assert len(vcpus) == 4 and all(v["world_switches"] > 1 for v in vcpus)


def test_two_linux_vms_share_a_cpu_with_asid_reuse(debian, tmp_path):
    """Two Linux VMs on one CPU keep their TLB entries across world switches (machine
    ASIDs; guest-global kernel entries made per address space): both still compute what
    the host computes."""
    vms = [{"name": f"lx{k}", "memory": "48M", "guest": "linux",
            "cmd": f"seq 1 {300 * (k + 1)} | md5sum; ls /bin | wc -l"} for k in range(2)]
    cfg = write_config(tmp_path / "two.toml", {"cpus": 1, "memory": "128M"}, vms,
                       asid_reuse=True)
    p = discovm("run", "--config", cfg, "--stats", tmp_path / "s.json", timeout=600)
    assert p.returncode == 0, p.stderr
    for k in range(2):
        md5 = subprocess.run(f"seq 1 {300 * (k + 1)} | md5sum", shell=True,
                             capture_output=True, text=True).stdout.strip()
        assert md5 in vm_lines(p.stdout, f"lx{k}")
    stats = json.loads((tmp_path / "s.json").read_text())["monitor"]
    switches = sum(v["world_switches"] for vm in stats["vms"] for v in vm["vcpus"])
    assert switches > 100 and sum(stats["tlb_flushes"]) < switches


@pytest.mark.slow
def test_four_linux_vms_at_once(debian, tmp_path):
    vms = [{"name": f"lx{k}", "memory": "48M", "guest": "linux",
            "cmd": f"echo vm {k}; seq 1 {100 * (k + 1)} | md5sum"} for k in range(4)]
    cfg = write_config(tmp_path / "four.toml", {"cpus": 4, "nodes": 2, "memory": "256M"}, vms)
    p = discovm("run", "--config", cfg, timeout=1200)
    assert p.returncode == 0, p.stderr
    for k in range(4):
        md5 = subprocess.run(f"seq 1 {100 * (k + 1)} | md5sum", shell=True,
                             capture_output=True, text=True).stdout.strip()
        lines = vm_lines(p.stdout, f"lx{k}")
        assert f"vm {k}" in lines and md5 in lines


# A Disco-aware guest asks the monitor for a zeroed page and reports a free one (the HAL
# monitor calls, paper 4.2.3): it fills a page, asks for it zeroed, and checks.
HAL = r"""
    .set noreorder
    .globl _start
_start:
    li      $t0, 0x80200000         # guest-physical 0x00200000
    li      $t1, 1024
    li      $t2, 0x5a5a5a5a
1:  sw      $t2, 0($t0)
    addiu   $t1, $t1, -1
    bnez    $t1, 1b
    addiu   $t0, $t0, 4
    li      $t3, 0xBF004000         # the HAL page of the device window
    li      $t4, 0x00200000
    sw      $t4, 0($t3)             # ZERO_PAGE
    li      $t4, 0x00300000
    sw      $t4, 4($t3)             # PAGE_FREE
    li      $t0, 0x80200000
    li      $t1, 1024
    li      $t5, 0
2:  lw      $t2, 0($t0)
    or      $t5, $t5, $t2
    addiu   $t1, $t1, -1
    bnez    $t1, 2b
    addiu   $t0, $t0, 4
    lw      $t6, 8($t3)             # pages zeroed so far
    la      $a0, ok
    bnez    $t5, 3f
    li      $a1, 0
    li      $t7, 1
    beq     $t6, $t7, 4f
    nop
3:  la      $a0, bad
    li      $a1, 1
4:  j       puts_and_exit
    nop
    .data
ok:  .asciz "zeroed by the monitor\n"
bad: .asciz "not zeroed\n"
"""


def test_hal_monitor_calls(tmp_path):
    elf = assemble(HAL, tmp_path / "hal.elf")
    p = discovm("run", "--vm", "--kernel", elf, "--stats", tmp_path / "s.json")
    assert p.returncode == 0 and p.stdout == "zeroed by the monitor\n", p.stdout + p.stderr
    hal = json.loads((tmp_path / "s.json").read_text())["monitor"]["vms"][0]["hal"]
    assert hal == {"pages_zeroed": 1, "pages_reported_free": 1}


# A guest kernel that executes a known number of each privileged instruction (one of them
# in a branch delay slot): the monitor's counts by kind must be exactly those numbers.
PRIVILEGED = r"""
    .set noreorder
    .globl _start
_start:
    li      $s0, 100
1:  mfc0    $t0, $12                # Status
    mtc0    $t0, $12
    di
    ei
    mtc0    $zero, $0               # Index 0
    li      $t1, 0x00400000         # a user page, ASID 0
    mtc0    $t1, $10
    mtc0    $zero, $2
    mtc0    $zero, $3
    tlbwi
    tlbp
    addiu   $s0, $s0, -1
    bnez    $s0, 1b
    mfc0    $t2, $9                 # Count, in the delay slot
    la      $a0, msg
    j       puts_and_exit
    li      $a1, 0
    .data
msg: .asciz "done\n"
"""


def test_statistics_count_each_privileged_instruction(tmp_path):
    elf = assemble(PRIVILEGED, tmp_path / "priv.elf")
    p = discovm("run", "--vm", "--kernel", elf, "--stats", tmp_path / "s.json")
    assert p.returncode == 0 and p.stdout == "done\n", p.stdout + p.stderr
    v = json.loads((tmp_path / "s.json").read_text())["monitor"]["vms"][0]["vcpus"][0]
    assert v["emulated"] == {"mfc0": 200, "mtc0": 500, "di/ei": 200, "tlbwi": 100,
                             "tlbp": 100}
    assert v["traps"]["CpU"] == 1100


# The boot ROM is readable and ignores stores, on the bare machine and in a VM alike.
ROM_READ = r"""
    .set noreorder
    .globl _start
_start:
    li      $t0, 0xBFC00000
    lw      $t1, 0($t0)
    lbu     $t4, 1($t0)
    sw      $zero, 0($t0)           # ignored
    lw      $t2, 0($t0)
    srl     $t5, $t1, 8
    andi    $t5, $t5, 0xff
    la      $a0, bad
    beqz    $t1, 1f
    li      $a1, 1
    bne     $t1, $t2, 1f
    nop
    bne     $t4, $t5, 1f
    nop
    la      $a0, ok
    li      $a1, 0
1:  j       puts_and_exit
    nop
    .data
ok:  .asciz "rom reads the same twice\n"
bad: .asciz "rom differs\n"
"""


def test_boot_rom_reads_like_the_bare_machine(tmp_path):
    elf = assemble(ROM_READ, tmp_path / "rom.elf")
    bare = discovm("run", "--kernel", elf)
    vm = discovm("run", "--vm", "--kernel", elf)
    assert bare.returncode == vm.returncode == 0, bare.stderr + vm.stderr
    assert vm.stdout == bare.stdout == "rom reads the same twice\n"
