"""Guest software made or fetched by the project (Python side): Debian's mipsel kernel and
busybox (debian.py) and the initramfs that boots them (initramfs.py)."""
