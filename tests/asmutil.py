"""Assemble small bare-metal programs for tests, with Debian's cross toolchain."""

import pathlib
import subprocess
import sys

CFLAGS = ["-EL", "-march=mips32r2", "-mabi=32", "-mno-abicalls", "-fno-pic", "-G0",
          "-ffreestanding", "-nostdlib", "-static", "-no-pie"]
UART = 0xBF000000
SYSCON = 0xBF001000

# Prints the NUL-terminated string at $a0 and powers off with status $a1.
EPILOGUE = """
    .text
    .set noreorder
puts_and_exit:
    lui $t0, 0xbf00
1:  lbu $t2, 0($a0)
    beqz $t2, 2f
    addiu $a0, $a0, 1
    b 1b
    sb $t2, 0($t0)
2:  ori $t0, $t0, 0x1000
    sw $a1, 0($t0)
3:  b 3b
    nop
"""


def assemble(source, path, text_addr=0x80100000):
    """Build ``source`` (assembly with a ``_start`` label) into the ELF ``path``."""
    path = pathlib.Path(path)
    src = path.with_suffix(".S")
    src.write_text(source + EPILOGUE)
    subprocess.run(["mipsel-linux-gnu-gcc", *CFLAGS, f"-Wl,-Ttext=0x{text_addr:x}",
                    "-Wl,-e,_start", str(src), "-o", str(path)], check=True)
    return path


def discovm(*args, env=None, input=None, timeout=120):
    """Run the discovm CLI; returns the CompletedProcess (text mode)."""
    return subprocess.run([sys.executable, "-m", "discovm", *map(str, args)],
                          capture_output=True, text=True, env=env, input=input,
                          timeout=timeout)
