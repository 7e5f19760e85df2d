"""Booting Debian's Linux on a machine: kernel, initramfs and device tree in place.

Like QEMU's ``-kernel -initrd -append``: the initramfs (busybox, the virtio modules and an
/init that runs the user's command) goes at the top of the RAM the kernel reaches early,
the device tree just above it, and the tree's /chosen node tells the kernel where the
initramfs is and what its command line says.
"""

from ..hw import devicetree
from . import initramfs

# console on the UART; no KASLR (relocation would not move the initrd out of its way);
# the crypto self-tests (about 600 million instructions of RSA at every boot) skipped.
BOOTARGS = "console=ttyS0 earlycon nokaslr cryptomgr.notests"
DTB_ROOM = 0x10000              # the device tree goes in the last 64 KiB


def boot_linux(machine, files, cmd=None, bootargs=None, quiet=True):
    """Load Debian's kernel (``files`` from :func:`discovm.guests.debian.fetch`) on
    ``machine`` with an initramfs that runs ``cmd`` (or a shell) and powers off."""
    initrd = initramfs.build_debian(files, cmd=cmd)
    top = machine.boot_area_top() - DTB_ROOM
    start = (top - len(initrd)) & ~0xFFF
    machine.write_phys(start, initrd)
    args = bootargs if bootargs is not None else BOOTARGS
    if quiet and cmd is not None:
        args += " quiet"
    dtb = devicetree.machine_dtb(machine, required=True, bootargs=args,
                                 initrd=(start, start + len(initrd)))
    if len(dtb) > DTB_ROOM:
        raise devicetree.DeviceTreeError("device tree larger than 64 KiB")
    return machine.load_kernel(str(files.kernel), dtb=dtb)
