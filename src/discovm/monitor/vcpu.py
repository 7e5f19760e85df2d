"""A virtual CPU: what the monitor keeps for each VCPU of a VM (paper section 4.2.1).

Its state is a :class:`~discovm.hw.cpu_state.CpuState`, the very same structure the
hardware CPU uses, holding the *virtual* values: the saved general registers, the virtual
CP0 (the guest's Status, Cause, EPC, Count/Compare, ...), and the VTLB (the guest's TLB as
it wrote it).  Because the layout is the hardware's, the monitor emulates a privileged
instruction by running the hardware's own CP0 code (:func:`discovm.hw.cp0.execute_cop0`) on
these arrays, reflects an exception with the hardware's own exception entry, and computes
the guest's view of an address with the hardware's own translation: the guest sees exactly
the architecture the bare machine implements.
"""

import numpy as np

from ..hw import cpu_state as cs
from ..hw.mmu import update_context
from .fastpath import L2TLB_N, N_FSTATS

# scheduling states
RUNNABLE, WAITING, STOPPED = "runnable", "waiting", "stopped"


class VCpu:
    def __init__(self, vm, index):
        self.vm = vm
        self.index = index
        self.v = cs.CpuState(index)        # the virtual CPU's state
        self.dummy_stag = np.full(3 * cs.STLB_N, -1, np.int64)   # no software TLB of its own
        # the second-level software TLB (paper 4.2.2) and the fast paths' counters
        self.l2tag = np.full(L2TLB_N, -1, np.int64)
        self.l2val = np.zeros(L2TLB_N, np.int64)
        self.fstats = np.zeros(N_FSTATS, np.int64)
        self.hwasid = np.full(256, -1, np.int64)     # guest ASID -> machine ASID (reuse)
        self.state = RUNNABLE if index == 0 else STOPPED
        self.node = 0                      # NUMA node it prefers (where its memory is)
        self.pcpu = None                   # physical CPU it last ran on
        self.last_round = -1               # the monitor's scheduling round it last ran in
        self.stats = {"traps": {}, "emulated": {}, "guest_tlb_misses": 0,
                      "mmio": 0, "world_switches": 0, "migrations": 0, "reflected": {}}
        update_context(self.v.cp0, self.v.s)

    def forget_hardware_mappings(self):
        """Its guest TLB was reset: nothing cached from it may be used again."""
        self.l2tag[:] = -1
        self.hwasid[:] = -1

    def count(self, group, key):
        d = self.stats[group]
        d[key] = d.get(key, 0) + 1

    @property
    def mode(self):
        """Guest mode: 0 kernel, 1 supervisor, 2 user (from the virtual Status)."""
        return int(self.v.s[cs.S_MODE])
