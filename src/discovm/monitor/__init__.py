"""Disco: the virtual machine monitor (Bugnion, Devine, Rosenblum, SOSP 1997).

The monitor runs on the bare machine of :mod:`discovm.hw` and alone uses its kernel mode.
Guest kernels run in supervisor mode, guest applications in user mode (paper 4.2.1); every
exception returns to the monitor (``S_EXIT_ON_EXC``), which emulates privileged
instructions against each VCPU's virtual CP0 and maps guest memory through the pmap.
"""
