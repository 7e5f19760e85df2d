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
