"""The machine's device tree: generated DTS, compiled by dtc, read back by dtc."""

import re
import shutil
import struct

import pytest

from discovm.hw import devicetree as dt
from discovm.hw import physmap

needs_dtc = pytest.mark.skipif(shutil.which("dtc") is None,
                               reason="dtc not installed (device-tree-compiler)")


def parse(text):
    """Decompiled DTS -> {node path: {property: raw value text}} (enough for dtc's output)."""
    nodes, stack = {}, []
    for line in text.splitlines():
        line = line.strip()
        if m := re.match(r"^(?:[\w-]+: )?([\w@,.+-]+|/) \{$", line):
            name = m.group(1)
            stack.append(name)
            path = "/" + "/".join(stack[1:])
            nodes[path] = {}
        elif line == "};":
            stack.pop()
        elif stack and line.endswith(";"):
            key, _, value = line[:-1].partition(" = ")
            nodes["/" + "/".join(stack[1:])][key] = value
    return nodes


def roundtrip(desc):
    blob = dt.dtb(desc)
    assert struct.unpack(">I", blob[:4])[0] == 0xD00DFEED      # FDT magic
    assert struct.unpack(">I", blob[4:8])[0] == len(blob)       # totalsize
    return parse(dt.decompile(blob))


@needs_dtc
def test_nodes_and_properties():
    desc = dt.MachineDesc(memory=[(0, 64 << 20)], cpus=2, clock_hz=100_000_000,
                          rtc=True, virtio=[0, 2], bootargs="console=ttyS0 quiet",
                          initrd=(0x3000000, 0x3012345))
    n = roundtrip(desc)
    root = n["/"]
    assert root["compatible"] == '"discovm,machine"'
    assert root["#address-cells"] == "<0x01>" and root["#size-cells"] == "<0x01>"

    uart = n["/serial@1f000000"]
    assert uart["compatible"] == '"ns16550a"'
    assert uart["reg"] == "<0x1f000000 0x100>"
    assert uart["reg-shift"] == "<0x00>"
    assert uart["interrupts"] == "<0x02>"
    assert int(uart["clock-frequency"][1:-1], 16) == dt.UART_CLOCK_HZ
    assert n["/aliases"]["serial0"] == '"/serial@1f000000"'

    assert n["/memory@0"] == {"device_type": '"memory"', "reg": "<0x00 0x4000000>"}

    # cpus: reg = index, and the clock Linux halves for Count
    assert sorted(k for k in n if k.startswith("/cpus/")) == ["/cpus/cpu@0", "/cpus/cpu@1"]
    clk = n["/cpu-clock"]
    assert clk["compatible"] == '"fixed-clock"'
    assert int(clk["clock-frequency"][1:-1], 16) == 100_000_000
    assert n["/cpus/cpu@1"]["reg"] == "<0x01>"
    assert n["/cpus/cpu@0"]["clocks"] == f"<{clk['phandle'][1:-1]}>"
    assert n["/cpus/cpu@0"]["device_type"] == '"cpu"'

    chosen = n["/chosen"]
    assert chosen["bootargs"] == '"console=ttyS0 quiet"'
    assert chosen["stdout-path"] == '"serial0:115200n8"'
    assert chosen["linux,initrd-start"] == "<0x3000000>"
    assert chosen["linux,initrd-end"] == "<0x3012345>"

    intc = n["/interrupt-controller"]
    assert intc["compatible"] == '"mti,cpu-interrupt-controller"'
    assert intc["#interrupt-cells"] == "<0x01>" and "interrupt-controller" in intc
    assert root["interrupt-parent"] == intc["phandle"]

    sc = n["/syscon@1f001000"]
    assert sc["compatible"] == '"discovm,syscon\\0syscon"'
    assert n["/poweroff"]["regmap"] == sc["phandle"]
    assert n["/poweroff"]["compatible"] == '"syscon-poweroff"'
    assert n["/poweroff"]["offset"] == "<0x00>" and n["/poweroff"]["value"] == "<0x00>"
    assert n["/reboot"]["compatible"] == '"syscon-reboot"'
    assert n["/reboot"]["offset"] == "<0x04>"

    assert n["/rtc@1f002000"]["compatible"] == '"google,goldfish-rtc"'
    assert n["/rtc@1f002000"]["interrupts"] == "<0x05>"
    assert n["/ipi@1f003000"]["interrupts"] == "<0x04>"

    virtio = sorted(k for k in n if k.startswith("/virtio@"))
    assert virtio == ["/virtio@1f010000", "/virtio@1f010400"]
    assert n["/virtio@1f010400"] == {"compatible": '"virtio,mmio"',
                                     "reg": "<0x1f010400 0x200>", "interrupts": "<0x03>"}


@needs_dtc
def test_optional_parts_absent():
    n = roundtrip(dt.MachineDesc(ipi=False))
    assert "linux,initrd-start" not in n["/chosen"]
    assert not any(k.startswith(("/virtio", "/rtc", "/ipi")) for k in n)
    assert "numa-node-id" not in n["/memory@0"]


@needs_dtc
def test_from_machine_numa():
    from discovm.hw.machine import Machine
    m = Machine(mem_size=768 << 20, ncpus=4, nodes=2)
    n = roundtrip(dt.machine_desc(m))
    # 384 MiB per node; node 1's slice continues above the device window at 0x20000000
    assert n["/memory@0"]["reg"] == "<0x00 0x18000000>"
    assert n["/memory@0"]["numa-node-id"] == "<0x00>"
    assert n["/memory@18000000"]["reg"] == "<0x18000000 0x7000000>"
    assert n["/memory@18000000"]["numa-node-id"] == "<0x01>"
    assert n["/memory@20000000"]["reg"] == "<0x20000000 0x11000000>"
    assert [n[f"/cpus/cpu@{i}"]["numa-node-id"] for i in range(4)] == \
        ["<0x00>", "<0x00>", "<0x01>", "<0x01>"]
    assert "/serial@1f000000" in n and "/ipi@1f003000" in n


def test_bad_description():
    with pytest.raises(ValueError):
        dt.dts(dt.MachineDesc(virtio=[physmap.VIRTIO_SLOTS]))
    with pytest.raises(ValueError):
        dt.dts(dt.MachineDesc(initrd=(0x1001, 0x2000)))
    with pytest.raises(ValueError):
        dt.dts(dt.MachineDesc(cpus=2, cpu_nodes=[0]))


def test_dtc_missing(monkeypatch):
    monkeypatch.setattr(dt.shutil, "which", lambda name: None)
    with pytest.raises(dt.DeviceTreeError, match="device-tree-compiler"):
        dt.dtb(dt.MachineDesc())

    from discovm.hw.machine import Machine
    m = Machine(mem_size=16 << 20)
    monkeypatch.setenv("DISCOVM_QUIET", "1")
    assert dt.machine_dtb(m) is None          # bare-metal runs go on without a tree
    with pytest.raises(dt.DeviceTreeError, match="dtc"):
        dt.machine_dtb(m, required=True)


@needs_dtc
def test_dtc_rejects_source():
    with pytest.raises(dt.DeviceTreeError, match="dtc failed"):
        dt.compile_dts("/dts-v1/; / { broken")
