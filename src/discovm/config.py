"""Machine and VM descriptions: the TOML configuration file and the command-line flags.

The file format is fixed by DESIGN.md ("The configuration file"); keys may be added, the
documented ones keep their meaning.  Every mistake gives a :class:`ConfigError` whose
message names the key and the file, never a traceback.

```toml
kernel = "prog.elf"        # the bare-metal guest when there are no [[vm]] tables
[machine]
cpus = 4                   # physical CPUs
nodes = 2                  # NUMA nodes; CPUs and RAM are split evenly
memory = "512M"
mode = "functional"        # or "timing"
clock = "200MHz"           # CPU clock (Count runs at half of it)
[machine.cache]            # timing mode's per-CPU cache (paper section 5.1 defaults)
size = "1M"
line = 128
ways = 2
local_ns = 300
remote_ns = 900
[monitor]
asid_reuse = false         # keep TLB entries across world switches (machine ASIDs per
                           # VCPU) instead of flushing the TLB (paper 4.2.2)
```
"""

import dataclasses
import pathlib
import tomllib


class ConfigError(Exception):
    pass


_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text):
    """'64M', '512K', '1G', '1GiB' or a number -> bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise ValueError(f"not a size: {text!r} (try \"64M\")")
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if t and t[-1] in _UNITS:
            return int(float(t[:-1]) * _UNITS[t[-1]])
        return int(t)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (try \"64M\")") from None


def parse_hz(value):
    """'200MHz', '1GHz', 200000000 -> Hz."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    t = str(value).strip().upper().removesuffix("HZ")
    scale = {"K": 10**3, "M": 10**6, "G": 10**9}
    try:
        if t and t[-1] in scale:
            return int(float(t[:-1]) * scale[t[-1]])
        return int(t)
    except ValueError:
        raise ValueError(f"not a frequency: {value!r} (try \"200MHz\")") from None


@dataclasses.dataclass
class CacheConfig:
    size: int = 1 << 20
    line: int = 128
    ways: int = 2
    local_ns: int = 300
    remote_ns: int = 900


@dataclasses.dataclass
class DiskConfig:
    image: str
    persistent: bool = False


@dataclasses.dataclass
class VmConfig:
    name: str
    vcpus: int = 1
    memory: int = 64 << 20
    guest: str = "linux"        # "linux", "thin", or the path of a bare-metal ELF
    program: str = "radix"      # for guest = "thin": which thin-OS program
    cmd: str | None = None      # for guest = "linux": run this and power off
    disks: list = dataclasses.field(default_factory=list)
    net: bool = False


@dataclasses.dataclass
class MachineConfig:
    cpus: int = 1
    nodes: int = 1
    memory: int = 64 << 20
    mode: str = "functional"
    clock: int = 200_000_000
    cache: CacheConfig = dataclasses.field(default_factory=CacheConfig)
    kernel: str | None = None
    vms: list = dataclasses.field(default_factory=list)
    asid_reuse: bool = False    # [monitor]: TLB on a world switch kept, not flushed

    def timing_args(self):
        """Keyword arguments for the machine's cache model, or None in functional mode."""
        if self.mode != "timing":
            return None
        return dict(size=self.cache.size, line=self.cache.line, ways=self.cache.ways,
                    clock_hz=self.clock, local_ns=self.cache.local_ns,
                    remote_ns=self.cache.remote_ns)


def _take(table, key, kind, where, convert=None):
    value = table.pop(key)
    try:
        if convert:
            return convert(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ValueError(f"expected {kind.__name__}, got {value!r}")
        return value
    except ValueError as e:
        raise ConfigError(f"{where}: {key}: {e}") from None


def load(path):
    """Read a configuration file into a MachineConfig."""
    path = pathlib.Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return from_dict(data, str(path), base=path.parent)


def from_dict(data, where="config", base=None):
    data = dict(data)
    cfg = MachineConfig()
    m = dict(data.pop("machine", {}))
    if "kernel" in data:
        cfg.kernel = _take(data, "kernel", str, where)
    if "kernel" in m:
        cfg.kernel = _take(m, "kernel", str, f"{where} [machine]")
    if cfg.kernel and base is not None and not pathlib.Path(cfg.kernel).is_absolute():
        cfg.kernel = str(base / cfg.kernel)
    w = f"{where} [machine]"
    if "cpus" in m:
        cfg.cpus = _take(m, "cpus", int, w)
    if "nodes" in m:
        cfg.nodes = _take(m, "nodes", int, w)
    if "memory" in m:
        cfg.memory = _take(m, "memory", int, w, parse_size)
    if "mode" in m:
        cfg.mode = _take(m, "mode", str, w)
    if "clock" in m:
        cfg.clock = _take(m, "clock", int, w, parse_hz)
    c = dict(m.pop("cache", {}))
    wc = f"{where} [machine.cache]"
    if "size" in c:
        cfg.cache.size = _take(c, "size", int, wc, parse_size)
    for key in ("line", "ways", "local_ns", "remote_ns"):
        if key in c:
            setattr(cfg.cache, key, _take(c, key, int, wc))
    mon = dict(data.pop("monitor", {}))
    wm = f"{where} [monitor]"
    if "asid_reuse" in mon:
        cfg.asid_reuse = _take(mon, "asid_reuse", bool, wm)
    vms = data.pop("vm", [])
    if not isinstance(vms, list):
        raise ConfigError(f"{where}: vm must be an array of tables ([[vm]])")
    for k, table in enumerate(vms):
        cfg.vms.append(_vm(dict(table), f"{where} [[vm]] #{k + 1}", base))
    names = [v.name for v in cfg.vms]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: two [[vm]] tables have the same name")
    for table, name in ((data, where), (m, w), (c, wc), (mon, wm)):
        if table:
            raise ConfigError(f"{name}: unknown key(s): {', '.join(sorted(table))}")
    validate(cfg, where)
    return cfg


def _vm(table, where, base):
    if "name" not in table:
        raise ConfigError(f"{where}: a VM needs a name")
    vm = VmConfig(name=_take(table, "name", str, where))
    where = f"{where} ({vm.name})"
    if not vm.name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{where}: a VM name is letters, digits, - and _")
    if "vcpus" in table:
        vm.vcpus = _take(table, "vcpus", int, where)
    if "memory" in table:
        vm.memory = _take(table, "memory", int, where, parse_size)
    for key in ("guest", "program", "cmd"):
        if key in table:
            setattr(vm, key, _take(table, key, str, where))
    if "net" in table:
        vm.net = _take(table, "net", bool, where)
    for d in table.pop("disks", []):
        d = dict(d) if isinstance(d, dict) else {"image": d}
        if "image" not in d:
            raise ConfigError(f"{where}: a disk needs an image")
        image = _take(d, "image", str, where)
        if base is not None and not pathlib.Path(image).is_absolute():
            image = str(base / image)
        disk = DiskConfig(image=image)
        if "persistent" in d:
            disk.persistent = _take(d, "persistent", bool, where)
        if d:
            raise ConfigError(f"{where}: unknown disk key(s): {', '.join(sorted(d))}")
        vm.disks.append(disk)
    if table:
        raise ConfigError(f"{where}: unknown key(s): {', '.join(sorted(table))}")
    if vm.guest not in ("linux", "thin"):
        if base is not None and not pathlib.Path(vm.guest).is_absolute():
            vm.guest = str(base / vm.guest)
    if vm.cmd is not None and vm.guest != "linux":
        raise ConfigError(f"{where}: cmd is for guest = \"linux\"")
    if not 1 <= vm.vcpus <= 32:
        raise ConfigError(f"{where}: vcpus must be 1 to 32")
    if vm.memory < (1 << 20) or vm.memory % 4096:
        raise ConfigError(f"{where}: memory must be at least 1M and a multiple of 4K")
    return vm


def validate(cfg, where="config"):
    if not 1 <= cfg.cpus <= 32:
        raise ConfigError(f"{where}: cpus must be 1 to 32, not {cfg.cpus}")
    if cfg.nodes < 1 or cfg.nodes > cfg.cpus or cfg.cpus % cfg.nodes:
        raise ConfigError(f"{where}: nodes ({cfg.nodes}) must divide cpus ({cfg.cpus}) evenly")
    if cfg.memory < (1 << 20) or cfg.memory % 4096:
        raise ConfigError(f"{where}: memory must be at least 1M and a multiple of 4K")
    if cfg.memory % cfg.nodes or (cfg.memory // cfg.nodes) % 4096:
        raise ConfigError(f"{where}: memory must split into whole pages per node")
    if cfg.mode not in ("functional", "timing"):
        raise ConfigError(f"{where}: mode must be \"functional\" or \"timing\", not {cfg.mode!r}")
    if cfg.clock < 1_000_000:
        raise ConfigError(f"{where}: clock must be at least 1MHz")
