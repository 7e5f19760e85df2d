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
    run.add_argument("--max-instructions", type=int, default=None, metavar="N",
                     help="stop a guest that has not powered off after N instructions")
    run.add_argument("--stats", metavar="FILE.json", help="write the machine's counters here")
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
    config.validate(cfg, args.config or "command line")
    if args.linux and cfg.kernel:
        raise ConfigError("give --kernel or --linux, not both")
    if (args.cmd is not None or args.append is not None) and not args.linux:
        raise ConfigError("--cmd and --append go with --linux")
    if not cfg.kernel and not args.linux:
        raise ConfigError("nothing to run: give --kernel PROG.elf or --linux "
                          "(or kernel = ... in --config)")
    return cfg


def cmd_run(args):
    from .hw.board import BoardError, attach_board
    from .hw.machine import LoadError, Machine, MachineError
    try:
        cfg = machine_config(args)
        m = Machine(mem_size=cfg.memory, ncpus=cfg.cpus, nodes=cfg.nodes,
                    timing=cfg.timing_args(), clock_hz=cfg.clock)
        if not args.vm:
            attach_board(m, disks=args.disk, clock_hz=cfg.clock)
        target = m
        if args.vm:
            from .monitor.monitor import Monitor
            monitor = Monitor(m)
            target = monitor.create_vm("vm", cfg.memory, 1)
            attach_board(target, disks=args.disk, clock_hz=cfg.clock)
        if args.linux:
            _boot_linux(target, args)
        else:
            target.load_kernel(cfg.kernel, dtb=_device_tree(target))
        console = ConsoleInput()
        m.input, m.input_open = console.poll, console.is_open
    except (ConfigError, LoadError, MachineError, BoardError) as e:
        print(f"discovm: {e}", file=sys.stderr)
        return EXIT_ERROR
    status = EXIT_ERROR
    try:
        if args.vm:
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
        console.restore()
        sys.stdout.flush()
        if args.stats:
            stats = m.stats()
            if args.vm:
                stats["monitor"] = monitor.stats()
            with open(args.stats, "w") as f:
                json.dump(stats, f, indent=2)
    return status


def _run_vms(monitor, args):
    """Run the monitor's VMs; the exit status is the first failing VM's, else 0."""
    monitor.run(max_instructions=args.max_instructions)
    status = 0
    for vm in monitor.vms:
        if vm.error:
            print(f"\ndiscovm: [{vm.name}] {vm.error}", file=sys.stderr)
            status = status or (EXIT_RUNAWAY if "stopped after" in vm.error else EXIT_ERROR)
        elif vm.exit_status:
            status = status or vm.exit_status
    return status


def _boot_linux(machine, args):
    from .guests import debian, linux
    try:
        files = debian.fetch()
    except debian.DebianFetchError as e:
        raise ConfigError(f"cannot fetch Debian's kernel: {e}") from None
    linux.boot_linux(machine, files, cmd=args.cmd, bootargs=args.append)


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
