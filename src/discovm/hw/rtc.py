"""A real-time clock compatible with Android's goldfish RTC (DT ``google,goldfish-rtc``),
at physmap.RTC_BASE, interrupting on IP5.  Linux drives it with drivers/rtc/rtc-goldfish.c.

Registers (32-bit; the layout of QEMU's hw/rtc/goldfish_rtc.c):

======  =================  ===========================================================
offset  name               meaning
======  =================  ===========================================================
0x00    TIME_LOW           r: low 32 bits of the time in ns; latches the high half.
                           w: set the time to (TIME_HIGH written before << 32) | value
0x04    TIME_HIGH          r: the high half latched by the last TIME_LOW read; w: stage
0x08    ALARM_LOW          w: arm the alarm at (ALARM_HIGH << 32) | value; r: low half
0x0C    ALARM_HIGH         w/r: high half of the alarm time
0x10    IRQ_ENABLED        w/r: 1 = the alarm interrupt may reach the CPU
0x14    CLEAR_ALARM        w: disarm the alarm
0x18    ALARM_STATUS       r: 1 while an alarm is armed and has not fired
0x1C    CLEAR_INTERRUPT    w: lower the interrupt
======  =================  ===========================================================

Time is nanoseconds since the Unix epoch: a fixed start time (by default midnight,
1 January 2026 UTC, so every run sees the same dates) plus the simulated time elapsed,
cycles / clock.  Nothing here reads the host's clock unless the caller passes its time in
as the start.
"""

from .physmap import IRQ_RTC

TIME_LOW, TIME_HIGH, ALARM_LOW, ALARM_HIGH = 0x00, 0x04, 0x08, 0x0C
IRQ_ENABLED, CLEAR_ALARM, ALARM_STATUS, CLEAR_INTERRUPT = 0x10, 0x14, 0x18, 0x1C

DEFAULT_EPOCH_NS = 1_767_225_600 * 10**9        # 2026-01-01T00:00:00Z
DEFAULT_CLOCK_HZ = 200_000_000
NS = 10**9


class GoldfishRtc:
    irq_line = IRQ_RTC
    name = "rtc"

    def __init__(self, machine, start_ns=DEFAULT_EPOCH_NS, clock_hz=DEFAULT_CLOCK_HZ):
        self.machine = machine
        self.clock_hz = int(clock_hz)
        self.offset_ns = int(start_ns)      # wall time at simulated cycle 0
        self.time_high = 0                  # latched by a TIME_LOW read
        self.set_high = 0                   # staged by a TIME_HIGH write
        self.alarm_ns = 0
        self.alarm_armed = False
        self.alarm_token = 0                # bumped to cancel a scheduled alarm
        self.irq_enabled = False
        self.irq_pending = False
        self.alarms_fired = 0

    # ---- time ---------------------------------------------------------------------------
    def now_ns(self):
        # machine.now(): the accessing CPU's own cycle counter during an access, which is
        # finer than the machine's per-quantum time.
        return self.offset_ns + self.machine.now() * NS // self.clock_hz

    def irq(self):
        return self.irq_pending and self.irq_enabled

    # ---- registers ----------------------------------------------------------------------
    def read(self, offset, size=4):
        if offset == TIME_LOW:
            t = self.now_ns()
            self.time_high = t >> 32
            return t & 0xFFFFFFFF
        if offset == TIME_HIGH:
            return self.time_high & 0xFFFFFFFF
        if offset == ALARM_LOW:
            return self.alarm_ns & 0xFFFFFFFF
        if offset == ALARM_HIGH:
            return (self.alarm_ns >> 32) & 0xFFFFFFFF
        if offset == IRQ_ENABLED:
            return int(self.irq_enabled)
        if offset == ALARM_STATUS:
            return int(self.alarm_armed)
        return 0

    def write(self, offset, value, size=4):
        value &= 0xFFFFFFFF
        if offset == TIME_LOW:
            # Setting the clock moves the offset; simulated time keeps running from here.
            new = (self.set_high << 32) | value
            self.offset_ns += new - self.now_ns()
            if self.alarm_armed:
                self._arm(self.alarm_ns)    # the alarm is in wall time: re-aim it
        elif offset == TIME_HIGH:
            self.set_high = value
        elif offset == ALARM_LOW:
            self._arm((self.alarm_ns & ~0xFFFFFFFF) | value)
        elif offset == ALARM_HIGH:
            self.alarm_ns = (value << 32) | (self.alarm_ns & 0xFFFFFFFF)
        elif offset == IRQ_ENABLED:
            self.irq_enabled = bool(value & 1)
        elif offset == CLEAR_ALARM:
            self.alarm_armed = False
            self.alarm_token += 1
        elif offset == CLEAR_INTERRUPT:
            self.irq_pending = False

    def _arm(self, when_ns):
        self.alarm_ns = when_ns
        self.alarm_armed = True
        self.alarm_token += 1
        token = self.alarm_token
        delta_ns = when_ns - self.now_ns()
        if delta_ns <= 0:
            self._fire(token)               # an alarm in the past fires at once
            return
        delay = -(-delta_ns * self.clock_hz // NS)         # cycles, rounded up
        self.machine.schedule(delay, lambda: self._fire(token))

    def _fire(self, token):
        if token != self.alarm_token or not self.alarm_armed:
            return                          # cancelled or re-armed since
        self.alarm_armed = False
        self.irq_pending = True
        self.alarms_fired += 1

    def stats(self):
        return {"type": "goldfish-rtc", "alarms_fired": self.alarms_fired}
