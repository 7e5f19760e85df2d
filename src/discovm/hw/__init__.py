"""The simulated machine: MIPS32r2 CPUs, memory and devices (no knowledge of the monitor)."""
