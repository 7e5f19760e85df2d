"""Debian's real Linux and busybox on the bare machine.

The oracle for what the commands print is the same busybox binary run by QEMU's user-mode
emulator (qemu-mipsel-static): everything that does not depend on the machine must match.
"""

import subprocess

import pytest

from asmutil import discovm

# Machine-independent commands: their output must equal QEMU user-mode's.
PORTABLE = r"""
echo $((6*7))
seq 1 1000 | md5sum
printf 'pear\napple\nfig\nbanana\n' | sort
printf 'pear\napple\nfig\nbanana\n' | sort -r | head -2
seq 1 500 | gzip -9 | gunzip | tail -3
echo 'The quick brown fox' | tr a-z A-Z | rev
x=0; for i in $(seq 1 200); do x=$((x + i * i)); done; echo $x
printf '%s\n' one two three | wc -l
d=$(mktemp -d) && echo hello > $d/f && cat $d/f && ls $d && rm -r $d
awk 'BEGIN { for (i = 1; i <= 5; i++) s += i; print s }'
expr 1000000007 % 97
"""
MARK = "=====discovm-test====="


@pytest.fixture(scope="module")
def debian():
    from discovm.guests import debian
    return debian.fetch()


def run_linux(cmd, *extra):
    p = discovm("run", "--linux", "--cmd", f"echo {MARK}; {cmd}", *extra, timeout=300)
    assert MARK in p.stdout, p.stdout + p.stderr
    return p, p.stdout.split(MARK + "\n", 1)[1]


def test_busybox_commands_match_qemu_user(debian):
    p, out = run_linux(PORTABLE)
    assert p.returncode == 0, p.stderr
    oracle = subprocess.run(["qemu-mipsel-static", str(debian.busybox), "sh", "-c", PORTABLE],
                            capture_output=True, text=True, timeout=120, cwd="/")
    assert oracle.returncode == 0, oracle.stderr
    assert out.replace("\r\n", "\n") == oracle.stdout
    assert "42\n" in out


def test_machine_facts_and_exit_status(debian):
    p, out = run_linux("uname -a; grep -E 'cpu model|system type' /proc/cpuinfo; "
                       "grep -c '^processor' /proc/cpuinfo; exit 7")
    assert p.returncode == 7
    lines = out.splitlines()
    assert lines[0].startswith("Linux (none) 6.1.0-") and lines[0].endswith(" mips GNU/Linux")
    assert "MIPS 24Kc" in out and "discovm" in out
    assert lines[-1] == "1"


def test_ext4_on_virtio_disk_survives_a_second_boot(debian, tmp_path):
    img = tmp_path / "disk.img"
    subprocess.run(["truncate", "-s", "16M", str(img)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True)
    p, out = run_linux("mount -t ext4 /dev/vda /mnt && seq 1 300 > /mnt/numbers && "
                       "echo written-in-guest > /mnt/hello.txt && umount /mnt && echo ok",
                       "--disk", img)
    assert p.returncode == 0 and out == "ok\n", p.stderr
    # the host sees the guest's file in the image ...
    host = subprocess.run(["debugfs", "-R", "cat /hello.txt", str(img)],
                          capture_output=True, text=True, check=True)
    assert host.stdout == "written-in-guest\n"
    # ... and a second boot reads both files back
    p, out = run_linux("mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt && "
                       "md5sum < /mnt/numbers", "--disk", img)
    assert p.returncode == 0, p.stderr
    expected = subprocess.run("seq 1 300 | md5sum", shell=True, capture_output=True,
                              text=True).stdout
    assert out == "written-in-guest\n" + expected
