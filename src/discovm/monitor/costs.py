"""What the monitor's work costs in simulated time.

Disco's handlers were MIPS code running on the same CPUs as the guests; ours are Python
and numba running on the host, so the simulated CPU would see them as free.  To keep the
simulated-cycle figures honest, every trap the monitor handles is charged a fixed number
of cycles on the CPU that took it (counted separately as ``handler_cycles``).

The numbers are a model, not a measurement: they are the lengths of the MIPS handler
paths Disco describes (paper 4.2.2: the TLB refill from the L2TLB is a short assembly
path; 4.2.1 and section 5.2: emulating a privileged instruction and reflecting an
exception cost tens of instructions; 5.2 Table 2 shows kernel entry/exit slowed by the
emulated privileged instructions).  Change them here; every figure uses them.
"""

TLB_REFILL_L2TLB = 40      # hardware TLB refill answered by the L2TLB / pmap
EMULATE_PRIVILEGED = 30    # one privileged instruction emulated on the virtual CP0
DELAY_SLOT_EXTRA = 20      # ... in a branch delay slot (branch decoded again)
VIRTUAL_INTERRUPT = 60     # posting an interrupt into the guest (exception entry)
SLOW_TRAP = 300            # anything the slow path handles (first touch, MMIO, reflection)
