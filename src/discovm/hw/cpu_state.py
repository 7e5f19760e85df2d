"""The state of one CPU, kept in numpy arrays so that compiled code can use it directly.

One CPU is a :class:`CpuState` of six arrays:

``r``     uint32[34]   general registers 0..31, then HI (32) and LO (33)
``cp0``   uint32[256]  coprocessor 0 registers, indexed ``reg * 8 + sel``
``s``     int64[128]   scalars: PC, simulated time, interrupt lines, counters (``S_*`` below)
``tlb``   uint32[64,4] the joint TLB: EntryHi, PageMask, EntryLo0, EntryLo1 of each entry
``stag``  int64[3*N]   the software TLB's tags (see :mod:`discovm.hw.mmu`)
``spa``   int64[3*N]   the software TLB's host memory offsets

The CP0 values presented here describe the CPU truthfully (MIPS32 PRA, "CP0 Registers"):
Linux probes Config0-3 to learn what the CPU has.
"""

import numpy as np

N_TLB = 64                       # R10000-sized joint TLB of paired pages
STLB_BITS = 8                    # software TLB: 256 direct-mapped entries per access kind
STLB_N = 1 << STLB_BITS
STLB_MASK = STLB_N - 1
STLB_FETCH, STLB_LOAD, STLB_STORE = 0, STLB_N, 2 * STLB_N   # offsets of the three kinds


def C0(reg, sel=0):
    """Index of CP0 register (reg, sel) in the ``cp0`` array."""
    return reg * 8 + sel


# ---- CP0 registers (MIPS32 PRA, Table 9.1) -------------------------------------------
C0_INDEX = C0(0)
C0_RANDOM = C0(1)
C0_ENTRYLO0 = C0(2)
C0_ENTRYLO1 = C0(3)
C0_CONTEXT = C0(4)
C0_USERLOCAL = C0(4, 2)
C0_PAGEMASK = C0(5)
C0_PAGEGRAIN = C0(5, 1)
C0_SEGCTL0 = C0(5, 2)
C0_SEGCTL1 = C0(5, 3)
C0_SEGCTL2 = C0(5, 4)
C0_WIRED = C0(6)
C0_HWRENA = C0(7)
C0_BADVADDR = C0(8)
C0_COUNT = C0(9)
C0_ENTRYHI = C0(10)
C0_COMPARE = C0(11)
C0_STATUS = C0(12)
C0_INTCTL = C0(12, 1)
C0_SRSCTL = C0(12, 2)
C0_CAUSE = C0(13)
C0_EPC = C0(14)
C0_PRID = C0(15)
C0_EBASE = C0(15, 1)
C0_CONFIG = C0(16)
C0_CONFIG1 = C0(16, 1)
C0_CONFIG2 = C0(16, 2)
C0_CONFIG3 = C0(16, 3)
C0_LLADDR = C0(17)
C0_ERROREPC = C0(30)

# Status bits
ST_IE, ST_EXL, ST_ERL = 1 << 0, 1 << 1, 1 << 2
ST_KSU_SHIFT, ST_KSU_MASK = 3, 3 << 3
ST_IM_MASK = 0xFF << 8
ST_BEV = 1 << 22
ST_CU0, ST_CU1 = 1 << 28, 1 << 29
# Writable Status bits: CU0, RP, RE, BEV, IM, KSU, ERL, EXL, IE.  CU1..3 stay 0 (no FPU,
# no CP2/CP3: Config1.FP = 0, so Linux uses its FPU emulator); KX/SX/UX are 64-bit only.
ST_WRITABLE = ST_CU0 | (1 << 27) | (1 << 25) | ST_BEV | ST_IM_MASK | ST_KSU_MASK | ST_ERL | ST_EXL | ST_IE

# Cause bits
CA_BD, CA_TI = 1 << 31, 1 << 30
CA_CE_SHIFT = 28
CA_DC, CA_IV = 1 << 27, 1 << 23
CA_IP_SHIFT = 8
CA_WRITABLE = CA_DC | CA_IV | (3 << CA_IP_SHIFT)     # IV, DC and the two software interrupts

# Exception codes (Cause.ExcCode, MIPS32 PRA Table 9.31)
EXC_INT, EXC_MOD, EXC_TLBL, EXC_TLBS, EXC_ADEL, EXC_ADES = 0, 1, 2, 3, 4, 5
EXC_IBE, EXC_DBE, EXC_SYS, EXC_BP, EXC_RI, EXC_CPU, EXC_OV, EXC_TR = 6, 7, 8, 9, 10, 11, 12, 13
EXC_NAMES = {0: "Int", 1: "Mod", 2: "TLBL", 3: "TLBS", 4: "AdEL", 5: "AdES", 6: "IBE", 7: "DBE",
             8: "Sys", 9: "Bp", 10: "RI", 11: "CpU", 12: "Ov", 13: "Tr"}

# ---- scalar slots of ``s`` -------------------------------------------------------------
S_PC = 0              # address of the next instruction to execute
S_NPC = 1             # address of the one after it (differs from PC+4 in a delay slot)
S_BRANCH_PC = 2       # address of the last branch executed (delay-slot detection), or -1
S_CYCLE = 3           # simulated cycles of this CPU (functional mode: 1 per instruction)
S_EVENT_AT = 4        # cycle at which the loop must stop to look at timers and interrupts
S_LIMIT = 5           # end of the current time slice (cycle)
S_TIMER_AT = 6        # cycle at which Count will equal Compare
S_COUNT_BIAS = 7      # Count = (cycle >> 1) + bias: Count runs at half the clock (CCRes = 2)
S_CTX = 8             # software-TLB context: mode and ASID bits of the current tag
S_MODE = 9            # 0 kernel, 1 supervisor, 2 user (from Status KSU/EXL/ERL)
S_LLBIT = 10          # load-linked bit
S_IRQ_LINES = 11      # external interrupt lines as Cause.IP bits (bit 2 = IP2 ... bit 7 = IP7)
S_REASON = 12         # why the loop returned (R_* in engine)
S_MMIO_PA = 13        # pending device access: physical address,
S_MMIO_SIZE = 14      #   size in bytes,
S_MMIO_WRITE = 15     #   1 for a store,
S_MMIO_VALUE = 16     #   value stored, or value loaded once the machine has answered
S_MMIO_DONE = 17      #   set by the machine when the access has been performed
S_EXIT_ON_EXC = 18    # 1: return to the caller after every exception entry (the monitor's hook)
S_CPUNUM = 19
S_RAM_SIZE = 20       # bytes of RAM (machine memory), placed as the physical map says
S_RAM_LO_END = 21     # RAM below the device window ends here; the rest starts at 0x20000000
S_ROM_BASE = 22       # host offset of the boot ROM in the memory array
S_IDLE = 23           # cycles spent in WAIT (instructions = cycles - idle)
S_RANDOM_SEED = 24
S_NODE = 25           # NUMA node of this CPU
S_PEND_EXC = 26       # an exception found by a slow path, for the loop to take:
S_PEND_BADVA = 27     #   its BadVAddr (or -1)
S_PEND_REFILL = 28    #   1 for a TLB refill
S_STLB_MISSES = 30    # counters
S_TLB_REFILLS = 31
S_INTERRUPTS = 32
S_MMIO_COUNT = 33
S_CACHE_HITS = 34     # timing mode only
S_MISS_LOCAL = 35
S_MISS_REMOTE = 36
S_CACHE_INVALIDATIONS = 37
S_STALL = 38          # cycles spent waiting for memory (timing mode)
S_COUNT_FROZEN = 39   # Count's value while Cause.DC stops it, else -1
S_HANDLER = 43        # cycles charged for exception handlers that run outside the engine
                      # (the monitor's, written in Python/numba; see monitor/costs.py)
S_EXC_COUNT = 64      # 32 slots: exceptions taken, by ExcCode
N_SCALARS = 128


class CpuState:
    """The arrays of one CPU (see the module docstring)."""

    def __init__(self, cpunum=0):
        self.r = np.zeros(34, np.uint32)
        self.cp0 = np.zeros(256, np.uint32)
        self.s = np.zeros(N_SCALARS, np.int64)
        self.tlb = np.zeros((N_TLB, 4), np.uint32)
        self.stag = np.full(3 * STLB_N, -1, np.int64)
        self.spa = np.zeros(3 * STLB_N, np.int64)
        self.s[S_CPUNUM] = cpunum
        self.reset()

    def reset(self):
        """Cold reset (MIPS32 PRA, "Reset Exception"): kernel mode, ERL and BEV set."""
        c, s = self.cp0, self.s
        c[:] = 0
        self.r[:] = 0
        self.tlb[:] = 0
        # Unique, non-matching TLB entries (distinct VPN2 in kseg0, which never goes through
        # the TLB by default), as Linux's local_flush_tlb_all also writes them.
        for i in range(N_TLB):
            self.tlb[i, 0] = 0x80000000 + (i << 13)
        self.stag[:] = -1
        c[C0_STATUS] = ST_BEV | ST_ERL
        c[C0_RANDOM] = N_TLB - 1
        # PRId: company 1 (MIPS Technologies), processor 0x93 (24K family): Linux knows it
        # as a MIPS32r2 CPU without special quirks.
        c[C0_PRID] = 0x00019300
        c[C0_EBASE] = 0x80000000 | (int(s[S_CPUNUM]) & 0x3FF)
        # Config0: M (Config1 follows), AR=1 (Release 2), MT=1 (standard TLB), K0=3 cacheable
        c[C0_CONFIG] = (1 << 31) | (1 << 10) | (1 << 7) | 3
        # Config1: M, MMUSize-1 = 63, no FPU, and first-level caches of 16 KiB, 4-way,
        # 128-byte lines (IS=DS=7: 32 sets, IL=DL=6: 128 bytes, IA=DA=3: 4 ways; MIPS32 PRA,
        # Config1).  Nothing models these L1 caches (cache instructions are no-ops; timing
        # mode models the large second-level cache), so the geometry is chosen for the
        # software: 4 KiB per way means no virtual aliases, which spares Linux its alias
        # flushing; long lines mean few cache instructions per page flushed (each one a
        # trap under the monitor).
        c[C0_CONFIG1] = ((1 << 31) | ((N_TLB - 1) << 25) | (7 << 22) | (6 << 19) | (3 << 16)
                         | (7 << 13) | (6 << 10) | (3 << 7))
        c[C0_CONFIG2] = 1 << 31                          # M: Config3 follows; no L2 described
        # Config3: SC (segmentation control, bit 25), ULRI (UserLocal, bit 13).
        c[C0_CONFIG3] = (1 << 25) | (1 << 13)
        # IntCtl.IPTI = 7: the timer interrupt is on IP7 (MIPS32 PRA, IntCtl).
        c[C0_INTCTL] = 7 << 29
        # SegCtl reset values give the legacy map (MIPS32 PRA, "Segmentation Control"):
        # kseg3 MK, sseg MSK; kseg1 UK uncached, kseg0 UK; kuseg MUSK with EU (unmapped
        # under ERL), its upper half at physical 0x40000000.
        c[C0_SEGCTL0] = (0x0020 << 16) | 0x0010
        c[C0_SEGCTL1] = (0x0003 << 16) | 0x0002
        c[C0_SEGCTL2] = (0x0038 << 16) | 0x0438
        s[S_PC] = 0xBFC00000
        s[S_NPC] = 0xBFC00004
        s[S_BRANCH_PC] = -1
        s[S_EVENT_AT] = 0
        s[S_TIMER_AT] = 1 << 62
        s[S_COUNT_FROZEN] = -1
        s[S_LLBIT] = 0
        s[S_EXC_COUNT:S_EXC_COUNT + 32] = 0

    # Convenience for Python code (tests, loader, debugger).
    @property
    def pc(self):
        return int(self.s[S_PC])

    def set_pc(self, pc):
        self.s[S_PC] = pc & 0xFFFFFFFF
        self.s[S_NPC] = (pc + 4) & 0xFFFFFFFF
        self.s[S_BRANCH_PC] = -1
