"""The user's terminal as the machine's serial console.

Input is read by a background thread so the machine never blocks on it.  When stdin is a
terminal it is put in raw mode, as ``qemu -nographic`` does, so that the guest sees every
key (Ctrl-C included) and does its own echo; Ctrl-A then X leaves, and the terminal is
restored however the run ends.
"""

import os
import sys
import threading
from collections import deque

ESCAPE = 0x01                   # Ctrl-A
QUIT = (ord("x"), ord("X"))


class ConsoleInput:
    def __init__(self, stream=None):
        stream = stream if stream is not None else sys.stdin
        self.fd = None
        self.chunks = deque()
        self.open = False
        self.quit = False               # the user typed Ctrl-A X
        self._saved = None
        self._escape = False
        if stream is None or stream.closed:
            return
        try:
            self.fd = stream.fileno()
        except (OSError, ValueError):
            return
        self.open = True
        if os.isatty(self.fd):
            import termios
            import tty
            self._saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if not data:
                self.open = False
                return
            if self._saved is not None:
                data = self._filter(data)
            self.chunks.append(data)

    def _filter(self, data):
        out = bytearray()
        for b in data:
            if self._escape:
                self._escape = False
                if b in QUIT:
                    self.quit = True
                    self.open = False
                    continue
                if b != ESCAPE:
                    out.append(ESCAPE)
            elif b == ESCAPE:
                self._escape = True
                continue
            out.append(b)
        return bytes(out)

    def poll(self):
        """Bytes typed since the last call."""
        if self.quit:
            raise KeyboardInterrupt
        out = b""
        while self.chunks:
            out += self.chunks.popleft()
        return out

    def is_open(self):
        return self.open or bool(self.chunks)

    def restore(self):
        if self._saved is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
