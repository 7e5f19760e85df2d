"""discovm: the Disco virtual machine monitor (SOSP 1997) on a simulated MIPS multiprocessor.

Layers (docs/architecture.md): ``hw`` is the machine, ``monitor`` is Disco, ``guests`` builds
guest software.  ``hw`` never imports ``monitor``.
"""

__version__ = "0.1.0"
