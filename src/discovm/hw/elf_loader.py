"""Loading a guest ELF into machine memory, as QEMU's ``-kernel`` does.

Loadable segments are copied to physical address = virtual address & 0x1FFFFFFF (kseg0 and
kseg1 addresses), or to their physical address for other segments.  Every check that can
fail gives a :class:`LoadError` with a one-line message.
"""

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

EM_MIPS = 8


class LoadError(Exception):
    pass


def load_elf(path, write_phys):
    """Load ``path``; ``write_phys(paddr, data)`` stores bytes.  Returns (entry, highest
    physical address loaded)."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise LoadError(f"cannot open {path}: {e.strerror}") from None
    with f:
        try:
            elf = ELFFile(f)
            if elf.elfclass != 32 or not elf.little_endian:
                raise LoadError(f"{path}: not a 32-bit little-endian ELF (this is a MIPS32 "
                                "little-endian machine)")
            if elf["e_machine"] not in ("EM_MIPS", EM_MIPS):
                raise LoadError(f"{path}: ELF for {elf['e_machine']}, not MIPS")
            if elf["e_type"] not in ("ET_EXEC",):
                raise LoadError(f"{path}: not an executable ELF ({elf['e_type']})")
            entry = elf["e_entry"]
            top = 0
            loaded = 0
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                vaddr = seg["p_vaddr"]
                if 0x80000000 <= vaddr < 0xC0000000:
                    paddr = vaddr & 0x1FFFFFFF
                else:
                    paddr = seg["p_paddr"]
                data = seg.data()
                if len(data) < seg["p_filesz"]:
                    raise LoadError(f"{path}: truncated segment at 0x{vaddr:08x}")
                write_phys(paddr, data + bytes(seg["p_memsz"] - len(data)))
                top = max(top, paddr + seg["p_memsz"])
                loaded += 1
            if not loaded:
                raise LoadError(f"{path}: no loadable segments")
            return entry, top
        except ELFError as e:
            raise LoadError(f"{path}: not a valid ELF file ({e})") from None
        except (ValueError, KeyError, OSError) as e:
            raise LoadError(f"{path}: malformed ELF ({e})") from None


# ---- compressed Linux kernels (vmlinuz) ---------------------------------------------------
# Debian's mips32r2el kernel is a "zboot" ELF: a small stub (arch/mips/boot/compressed) that
# XZ-decompresses the real kernel to its link address and jumps to it with a0-a3 unchanged.
# Its decompressor costs about 2 x 10^9 instructions on the simulated CPU; like a bootloader,
# the loader can do that work itself and start the kernel exactly where the stub would.

XZ_MAGIC = b"\xfd7zXZ\x00"
LINUX_LOAD_ADDRESS = 0x80100000     # VMLINUX_LOAD_ADDRESS of arch/mips/generic


def unpack_zboot(path):
    """Return (image, load address, entry) for a MIPS zboot kernel, or None.

    The stub's last act is ``lui t9, hi; ori t9, t9, lo; jalr t9`` to the kernel's entry;
    the decompressed image must begin with ``j <that entry>`` when placed at the load
    address.  Both are checked, so any other file is left alone.
    """
    import lzma
    import struct
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None                     # load_elf will say why
    if not data.startswith(b"\x7fELF"):
        return None
    words = struct.unpack_from(f"<{min(len(data), 0x20000) // 4}I", data)
    entry = None
    for k in range(len(words) - 2):
        lui, ori, jalr = words[k:k + 3]
        if lui >> 16 == 0x3C19 and ori >> 16 == 0x3739 and jalr == 0x0320F809:
            entry = ((lui & 0xFFFF) << 16) | (ori & 0xFFFF)
    if entry is None:
        return None
    start = data.find(XZ_MAGIC)
    while start >= 0:
        try:
            image = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
            break
        except lzma.LZMAError:
            start = data.find(XZ_MAGIC, start + 1)      # the stub's own copy of the magic
    else:
        return None
    first = struct.unpack_from("<I", image)[0]
    if first >> 26 != 2 or (LINUX_LOAD_ADDRESS & 0xF0000000) | ((first & 0x3FFFFFF) << 2) != entry:
        return None
    return image, LINUX_LOAD_ADDRESS, entry
