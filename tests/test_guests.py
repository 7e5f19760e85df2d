"""The guest test programs (guests/tests/*.c) on QEMU and on discovm.

Each program checks itself against values from the MIPS32 manuals and prints one
line per check ("ok   NAME ..." / "FAIL NAME ...") and a summary line ("PASS: N
checks" / "FAIL: F of N checks failed").  For each program:

  (a) on QEMU's Malta board its checks pass, except the known QEMU differences below;
  (b) on discovm it exits with status 0 and prints exactly what it prints on QEMU,
      except that the known QEMU differences pass on discovm.

The reference is QEMU, but where QEMU does not do what the architecture manual says
the manual wins: each such check is marked "[qemu differs]" in its name, explained
in a comment in the program, and listed here with the reason.
"""

import re

import pytest

from guestrun import elf_path, program_names, run_discovm, run_qemu_cached

PROGRAMS = program_names()

# program -> {check name: why QEMU (7.2, -cpu 24Kf) fails it}
KNOWN_QEMU_DIFFERENCES = {
    "traps": {
        "SPECIAL funct 0x05 [qemu differs]":
            "SPECIAL function 5 is reserved in MIPS32r2 and must raise RI; QEMU (built "
            "without MIPS_STRICT_STANDARD) runs it as a 'PMON' monitor call, a no-op",
        "syscall in bne $0,$0 delay slot [qemu differs]":
            "QEMU translates a never-taken branch that compares a register with itself "
            "as a no-op, so the next instruction is not a delay slot for it: an "
            "exception there gets EPC = the instruction and Cause.BD = 0 instead of "
            "EPC = the branch and BD = 1",
    },
    "cp0": {
        "rdhwr $29 (UserLocal) in kernel mode [qemu differs]":
            "QEMU's 24Kf has no UserLocal register (Config3.ULRI = 0, optional in "
            "Release 2): MTC0 to it is ignored and it reads 0; discovm implements it",
        "user rdhwr $29, HWREna.29=1 [qemu differs]":
            "no UserLocal on QEMU's 24Kf: user-mode RDHWR $29 is RI",
        "user rdhwr $29 value [qemu differs]":
            "no UserLocal on QEMU's 24Kf: RDHWR $29 does not return the value written",
    },
}

# Bare output expected from the programs without checks.
EXACT_OUTPUT = {"hello": "Hello from discovm!\n"}

MAX_INSTRUCTIONS = 50_000_000     # the largest program needs about 1 million

_SUMMARY = re.compile(r"^(PASS: (\d+) checks|FAIL: (\d+) of (\d+) checks failed)$")


def check_name(line, names):
    """The known-difference name that ``line`` reports on, or None."""
    for name in names:
        for prefix in ("ok   ", "FAIL "):
            if line.startswith(prefix + name):
                rest = line[len(prefix) + len(name):]
                if rest == "" or rest.startswith((":", " =")):
                    return name
    return None


def summary(lines):
    """(checks, failures) from the last line, or None if it is not a summary."""
    m = _SUMMARY.match(lines[-1]) if lines else None
    if not m:
        return None
    if m.group(2):
        return int(m.group(2)), 0
    return int(m.group(4)), int(m.group(3))


@pytest.fixture
def built(guest_build):
    if guest_build is not None:
        pytest.fail(f"building the guest programs failed:\n{guest_build}", pytrace=False)


def qemu_output(name):
    elf = elf_path(name, "malta")
    assert elf.exists(), f"{elf} was not built"
    out, status = run_qemu_cached(elf)
    assert status is not None, f"QEMU did not stop (timeout); output so far:\n{out}"
    return out


@pytest.mark.qemu
@pytest.mark.parametrize("name", PROGRAMS)
def test_passes_on_qemu(built, name):
    out = qemu_output(name)
    if name in EXACT_OUTPUT:
        assert out == EXACT_OUTPUT[name]
        return
    lines = out.splitlines()
    totals = summary(lines)
    assert totals, f"no summary line at the end (crash?):\n{out}"
    known = KNOWN_QEMU_DIFFERENCES.get(name, {})
    unexpected = [line for line in lines[:-1]
                  if line.startswith("FAIL") and check_name(line, known) is None]
    assert not unexpected, "checks failing on QEMU:\n" + "\n".join(unexpected)
    failed_known = sum(1 for line in lines[:-1]
                       if line.startswith("FAIL ") and check_name(line, known))
    assert totals[1] == failed_known, out


def expected_on_discovm(name, qemu_out, discovm_out):
    """QEMU's output with every known QEMU difference turned into discovm's passing
    line for that check, and the summary line recomputed."""
    known = KNOWN_QEMU_DIFFERENCES.get(name, {})
    ours = {}
    for line in discovm_out.splitlines():
        n = check_name(line, known)
        if n:
            ours[n] = line
    lines = qemu_out.splitlines()
    totals = summary(lines)
    out = []
    for line in lines[:-1] if totals else lines:
        n = check_name(line, known)
        if n and line.startswith("FAIL "):
            # discovm must pass it: expect discovm's own "ok" line for the check
            mine = ours.get(n, "")
            line = mine if mine.startswith("ok ") else f"ok   {n} (must pass on discovm)"
        out.append(line)
    if totals:
        out.append(f"PASS: {totals[0]} checks")
    return "\n".join(out) + ("\n" if qemu_out.endswith("\n") else "")


@pytest.mark.discovm
@pytest.mark.parametrize("name", PROGRAMS)
def test_discovm_matches_qemu(built, name):
    elf = elf_path(name, "discovm")
    assert elf.exists(), f"{elf} was not built"
    out, status = run_discovm(elf, "--max-instructions", MAX_INSTRUCTIONS)
    err = run_discovm.last["stderr"].strip()
    assert status is not None, f"discovm did not stop (timeout); output so far:\n{out}"
    assert "Traceback" not in err, f"discovm crashed:\n{err}"
    want = expected_on_discovm(name, qemu_output(name), out)
    assert out == want, f"output differs from QEMU's (exit status {status}, stderr: {err!r})"
    assert status == 0, f"exit status {status}; stderr: {err}"


@pytest.mark.discovm
@pytest.mark.parametrize("name", PROGRAMS)
def test_same_program_inside_a_vm(built, name):
    """The test of a virtual machine monitor: the same binary, unchanged, prints the same
    in a VM (guest kernel mode emulated in supervisor mode) as on the bare machine, and so
    the same as QEMU."""
    elf = elf_path(name, "discovm")
    out, status = run_discovm(elf, "--vm", "--max-instructions", MAX_INSTRUCTIONS)
    err = run_discovm.last["stderr"].strip()
    assert status is not None, f"discovm --vm did not stop; output so far:\n{out}"
    assert "Traceback" not in err, f"discovm --vm crashed:\n{err}"
    bare, bare_status = run_discovm(elf, "--max-instructions", MAX_INSTRUCTIONS)
    assert out == bare, f"output in a VM differs from the bare machine (stderr: {err!r})"
    assert status == bare_status == 0, f"exit status {status}; stderr: {err}"
