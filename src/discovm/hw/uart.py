"""A 16550A-compatible UART (DT ``ns16550a``, byte registers, reg-shift 0).

Transmission is instantaneous: a byte written to THR is handed to the console sink at once,
so the transmitter is always empty (LSR.THRE and TEMT set).  Received bytes wait in a FIFO
filled by the machine from its input source.  The interrupt line follows the 16550's rules
(IER enables, IIR reports the highest-priority source; National Semiconductor PC16550D data
sheet, "Interrupt Identification Register").
"""

from collections import deque

from .physmap import IRQ_UART

RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR = range(8)
IER_RDI, IER_THRI = 0x01, 0x02
LCR_DLAB = 0x80
LSR_DR, LSR_THRE, LSR_TEMT = 0x01, 0x20, 0x40
IIR_NONE, IIR_THRI, IIR_RDI = 0x01, 0x02, 0x04


class Uart:
    irq_line = IRQ_UART

    def __init__(self, sink):
        self.sink = sink            # called with each transmitted byte (an int)
        self.rx = deque()
        self.ier = 0
        self.lcr = 0
        self.mcr = 0
        self.scr = 0
        self.fcr = 0
        self.dll = 0
        self.dlm = 0
        self.thre_pending = False   # "transmitter empty" interrupt not yet acknowledged
        self.tx_count = 0
        self.rx_count = 0

    def receive(self, data):
        """Bytes arriving on the serial line."""
        self.rx.extend(data)

    def irq(self):
        """Level of the interrupt line."""
        return self._iir() != IIR_NONE

    def _iir(self):
        if self.ier & IER_RDI and self.rx:
            return IIR_RDI
        if self.ier & IER_THRI and self.thre_pending:
            return IIR_THRI
        return IIR_NONE

    def read(self, offset, size=1):
        if offset == RBR_THR:
            if self.lcr & LCR_DLAB:
                return self.dll
            if self.rx:
                self.rx_count += 1
                return self.rx.popleft()
            return 0
        if offset == IER:
            return self.dlm if self.lcr & LCR_DLAB else self.ier
        if offset == IIR_FCR:
            iir = self._iir()
            if iir == IIR_THRI:
                self.thre_pending = False   # reading IIR acknowledges THRE
            return iir | (0xC0 if self.fcr & 1 else 0)
        if offset == LCR:
            return self.lcr
        if offset == MCR:
            return self.mcr
        if offset == LSR:
            return LSR_THRE | LSR_TEMT | (LSR_DR if self.rx else 0)
        if offset == MSR:
            return 0xB0                 # DCD, DSR, CTS: a terminal is always connected
        return self.scr

    def write(self, offset, value, size=1):
        value &= 0xFF
        if offset == RBR_THR:
            if self.lcr & LCR_DLAB:
                self.dll = value
            else:
                self.tx_count += 1
                self.sink(value)
                self.thre_pending = True    # sent at once: the holding register is empty
        elif offset == IER:
            if self.lcr & LCR_DLAB:
                self.dlm = value
            else:
                if value & IER_THRI and not self.ier & IER_THRI:
                    self.thre_pending = True
                self.ier = value & 0x0F
        elif offset == IIR_FCR:
            self.fcr = value
            if value & 2:
                self.rx.clear()
        elif offset == LCR:
            self.lcr = value
        elif offset == MCR:
            self.mcr = value
        elif offset == SCR:
            self.scr = value
