"""The system controller: power-off and reset (DT ``syscon`` with ``syscon-poweroff`` and
``syscon-reboot``).  A 32-bit write to +0x0 powers the machine off with exit status
value & 0xFF; a write to +0x4 resets it."""

POWEROFF, RESET = 0x0, 0x4


class Syscon:
    def __init__(self):
        self.exit_status = None     # set when the guest powers the machine off
        self.reset_requested = False

    def read(self, offset, size=4):
        return 0

    def write(self, offset, value, size=4):
        if offset == POWEROFF:
            self.exit_status = value & 0xFF
        elif offset == RESET:
            self.reset_requested = True
