"""Inter-processor interrupts and CPU start (physical 0x1F003000, interrupt IP4).

Register layout (32-bit registers; the CPU that accesses the device is known to it):

======  =====  ===============================================================
offset  r/w    meaning
======  =====  ===============================================================
0x00    r      number of CPUs in the machine
0x04    r      number of the CPU reading (also in EBase.CPUNum)
0x08    w      START_PC: where the next started CPU begins
0x0C    w      START_ARG: its a0
0x10    w      START: CPU number to start (kernel mode, ERL clear, BEV clear)
0x14    r      RUNNING: bit mask of the CPUs that run
0x18    w      STOP: CPU number to stop (a CPU may stop itself)
0x20    w      SEND: CPU number to interrupt (sets its pending bit, raises its IP4)
0x24    w      CLEAR: write anything to clear the reading CPU's pending IPI
0x28    r      PENDING: 1 if the reading CPU has an IPI pending
======  =====  ===============================================================

The machine starts CPU 0 itself; the others wait, like a real machine's secondary CPUs held
in reset until the boot CPU releases them (DESIGN.md, Boot).
"""

NCPUS, WHOAMI, START_PC, START_ARG, START, RUNNING, STOP = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
SEND, CLEAR, PENDING = 0x20, 0x24, 0x28


class IpiDevice:
    def __init__(self, machine):
        self.machine = machine
        self.start_pc = 0
        self.start_arg = 0
        self.pending = [False] * len(machine.cpus)
        self.sent = 0

    def irq(self, cpunum):
        return self.pending[cpunum]

    def read(self, offset, size=4):
        m = self.machine
        me = m.current_cpu
        if offset == NCPUS:
            return len(m.cpus)
        if offset == WHOAMI:
            return me
        if offset == RUNNING:
            return sum(1 << i for i, on in enumerate(m.running) if on)
        if offset == PENDING:
            return int(self.pending[me])
        return 0

    def write(self, offset, value, size=4):
        m = self.machine
        if offset == START_PC:
            self.start_pc = value & 0xFFFFFFFF
        elif offset == START_ARG:
            self.start_arg = value & 0xFFFFFFFF
        elif offset == START and 0 <= value < len(m.cpus):
            m.start_cpu(value, self.start_pc, self.start_arg)
        elif offset == STOP and 0 <= value < len(m.cpus):
            m.stop_cpu(value)
        elif offset == SEND and 0 <= value < len(m.cpus):
            self.pending[value] = True
            self.sent += 1
        elif offset == CLEAR:
            self.pending[m.current_cpu] = False
