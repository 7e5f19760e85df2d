"""The ``discovm`` command."""

import argparse
import json
import sys

from . import config
from .config import ConfigError, parse_size
from .terminal import ConsoleInput

EXIT_RUNAWAY = 124          # the guest did not power off within --max-instructions
EXIT_ERROR = 2              # bad input or a machine error


def _size(text):
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _parser():
    p = argparse.ArgumentParser(prog="discovm", description="Disco on a simulated MIPS machine")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="boot a guest on the simulated machine")
    run.add_argument("--config", metavar="FILE.toml", help="machine description (TOML)")
    run.add_argument("--kernel", metavar="PROG.elf", help="guest ELF to boot")
    run.add_argument("--vm", action="store_true",
                     help="run the guest inside one virtual machine under the monitor")
    run.add_argument("--console", metavar="NAME",
                     help="with VMs: the VM that receives what you type (default: the first)")
    run.add_argument("--linux", action="store_true",
                     help="boot Debian's Linux and busybox (fetched by `discovm fetch`)")
    run.add_argument("--cmd", metavar="'SHELL COMMANDS'",
                     help="with --linux: run these, print their output, power off with "
                          "their status (default: an interactive shell)")
    run.add_argument("--append", metavar="ARGS", help="with --linux: kernel command line")
    run.add_argument("--mem", type=_size, default=None, metavar="SIZE",
                     help="RAM size (default 64M)")
    run.add_argument("--cpus", type=int, default=None, metavar="N", help="CPUs (default 1)")
    run.add_argument("--nodes", type=int, default=None, metavar="N",
                     help="NUMA nodes; CPUs and RAM are split evenly (default 1)")
    run.add_argument("--timing", action="store_true", default=None,
                     help="timing mode: per-CPU caches, local/remote miss latencies")
    run.add_argument("--asid-reuse", action="store_true", default=None,
                     help="monitor: keep TLB entries across world switches (machine ASIDs) "
                          "instead of flushing the TLB")
    run.add_argument("--max-instructions", type=int, default=None, metavar="N",
                     help="stop a guest that has not powered off after N instructions")
    run.add_argument("--stats", metavar="FILE.json", help="write the machine's counters here")
    run.add_argument("--stats-table", action="store_true",
                     help="print the monitor's statistics table at exit (always with [[vm]])")
    run.add_argument("--disk", action="append", default=[], metavar="IMG",
                     help="raw disk image as a virtio-blk disk (repeatable; read-only if "
                          "the file is not writable)")
    fetch = sub.add_parser("fetch", help="download Debian's mipsel kernel and busybox")
    fetch.add_argument("--cache", metavar="DIR", help="cache directory (default ./cache)")
    return p


def cmd_fetch(args):
    from .guests import debian
    try:
        files = debian.fetch(args.cache)
    except debian.DebianFetchError as e:
        print(f"discovm: {e}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{files.kernel_package} {files.kernel_version}; busybox {files.busybox_version}")
    return 0


def machine_config(args):
    """The configuration file, if any, with the command-line flags on top."""
    cfg = config.load(args.config) if args.config else config.MachineConfig()
    if args.kernel:
        cfg.kernel = args.kernel
    if args.mem is not None:
        cfg.memory = args.mem
    if args.cpus is not None:
        cfg.cpus = args.cpus
    if args.nodes is not None:
        cfg.nodes = args.nodes
    if args.timing:
        cfg.mode = "timing"
    if args.asid_reuse:
        cfg.asid_reuse = True
    if args.linux and args.kernel:
        raise ConfigError("give --kernel or --linux, not both")
    from_file = bool(cfg.vms)
    if args.vm:
        if cfg.vms:
            raise ConfigError("--vm runs one VM; the configuration already describes VMs")
        if not args.linux and not cfg.kernel:
            raise ConfigError("--vm needs --kernel PROG.elf or --linux")
        cfg.vms = [config.VmConfig(name="vm", memory=cfg.memory,
                                   guest="linux" if args.linux else cfg.kernel,
                                   cmd=args.cmd,
                                   disks=[config.DiskConfig(d, True) for d in args.disk])]
        cfg.kernel = None
    config.validate(cfg, args.config or "command line")
    if (args.cmd is not None or args.append is not None) and not args.linux:
        raise ConfigError("--cmd and --append go with --linux")
    if from_file and (args.disk or args.linux):
        raise ConfigError("with [[vm]] tables, disks and guests are given per VM in the file")
    if not cfg.kernel and not args.linux and not cfg.vms:
        raise ConfigError("nothing to run: give --kernel PROG.elf or --linux "
                          "(or kernel = ... in --config)")
    return cfg


def cmd_run(args):
    from .hw.board import BoardError, attach_board
    from .hw.machine import LoadError, Machine, MachineError
    from .monitor.pmap import OutOfMemory
    from .monitor.vm import VmError
    monitor = None
    console = None
    try:
        cfg = machine_config(args)
        m = Machine(mem_size=cfg.memory, ncpus=cfg.cpus, nodes=cfg.nodes,
                    timing=cfg.timing_args(), clock_hz=cfg.clock)
        if cfg.vms:
            monitor = _build_vms(m, cfg, args)
        else:
            attach_board(m, disks=args.disk, clock_hz=cfg.clock)
            if args.linux:
                _boot_linux(m, args.cmd, args.append)
            else:
                m.load_kernel(cfg.kernel, dtb=_device_tree(m))
        console = ConsoleInput()
        m.input, m.input_open = console.poll, console.is_open
    except (ConfigError, LoadError, MachineError, BoardError, VmError, OutOfMemory) as e:
        print(f"discovm: {e}", file=sys.stderr)
        return EXIT_ERROR
    status = EXIT_ERROR
    try:
        if monitor is not None:
            status = _run_vms(monitor, args)
        else:
            status = m.run(max_instructions=args.max_instructions)
    except MachineError as e:
        sys.stdout.flush()
        print(f"\ndiscovm: {e}", file=sys.stderr)
        status = EXIT_RUNAWAY if "--max-instructions" in str(e) else EXIT_ERROR
    except KeyboardInterrupt:
        console.restore()
        print("\ndiscovm: interrupted", file=sys.stderr)
        status = 130
    finally:
        if console is not None:
            console.restore()
        sys.stdout.flush()
        if args.stats:
            stats = m.stats()
            if monitor is not None:
                stats["monitor"] = monitor.stats()
            with open(args.stats, "w") as f:
                json.dump(stats, f, indent=2)
    return status


def _build_vms(machine, cfg, args):
    """The monitor and its VMs, each with its devices and its guest loaded."""
    from .hw.board import attach_board
    from .monitor.monitor import Monitor
    from .monitor.vm import PrefixedConsole, VmError
    monitor = Monitor(machine, asid_reuse=cfg.asid_reuse)
    single = len(cfg.vms) == 1 and args.vm
    for vc in cfg.vms:
        # A lone VM (--vm) prints as the bare machine would; several are told apart.
        out = machine.console if single else PrefixedConsole(vc.name, machine.console)
        vm = monitor.create_vm(vc.name, vc.memory, vc.vcpus, console=out)
        disks = [(d.image, False, d.persistent) for d in vc.disks]
        attach_board(vm, disks=disks, nets=["subnet"] if vc.net else (), clock_hz=cfg.clock)
        if vc.guest == "linux":
            _boot_linux(vm, vc.cmd, args.append)
        elif vc.guest == "thin":
            vm.load_kernel(_thin_program(vc.program), dtb=_device_tree(vm))
        else:
            vm.load_kernel(vc.guest, dtb=_device_tree(vm))
    if args.console and args.console not in [v.name for v in monitor.vms]:
        raise VmError(f"--console {args.console}: no VM of that name")
    monitor.console_vm = args.console or monitor.vms[0].name
    monitor.console_live = sys.stdin is not None and sys.stdin.isatty()
    return monitor


def _thin_program(name):
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    path = root / "guests" / "build" / "thinos" / f"{name}.elf"
    if not path.exists():
        raise ConfigError(f"thin-OS program {name!r} is not built ({path}); run make guests")
    return str(path)


def _run_vms(monitor, args):
    """Run the monitor's VMs; the exit status is the first failing VM's, else 0."""
    monitor.run(max_instructions=args.max_instructions)
    sys.stdout.flush()
    if not args.vm or args.stats_table:
        print("\n" + monitor.table(), file=sys.stderr)
    status = 0
    for vm in monitor.vms:
        if vm.error:
            print(f"\ndiscovm: [{vm.name}] {vm.error}", file=sys.stderr)
            status = status or (EXIT_RUNAWAY if "stopped after" in vm.error else EXIT_ERROR)
        elif vm.exit_status:
            # Which VM failed and, if the monitor powered it off, why; a lone VM (--vm)
            # whose guest chose its exit status stays as quiet as the bare machine.
            if vm.exit_reason or not args.vm:
                why = f": {vm.exit_reason}" if vm.exit_reason else ""
                print(f"\ndiscovm: [{vm.name}] powered off with status "
                      f"0x{vm.exit_status:02X}{why}", file=sys.stderr)
            status = status or vm.exit_status
    return status


def _boot_linux(machine, cmd, append):
    from .guests import debian, linux
    try:
        files = debian.fetch()
    except debian.DebianFetchError as e:
        raise ConfigError(f"cannot fetch Debian's kernel: {e}") from None
    linux.boot_linux(machine, files, cmd=cmd, bootargs=append)


def _device_tree(machine):
    """The machine's device tree blob, if the device-tree compiler is available."""
    try:
        from .hw.devicetree import machine_dtb
    except ImportError:
        return None
    return machine_dtb(machine)


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "fetch":
        return cmd_fetch(args)
    return EXIT_ERROR
