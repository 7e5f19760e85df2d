#!/usr/bin/env python3
"""`make bench`: how fast discovm's CPU runs integer code, next to qemu-system-mipsel.

The guest is guests/bench/bench.c (hashing, sorting, matrix multiply, CRC-32, division),
built for both machines by `make -C guests/bench`:

  bench.elf        ~380 M instructions (ROUNDS in guests/bench/Makefile)
  bench-small.elf  ~1.5 M instructions, for discovm with NUMBA_DISABLE_JIT=1
  empty.elf        returns at once: what booting the machine costs

Measured (wall-clock time of the whole process, from outside; best of --runs):

  discovm          guest instructions from its --stats file; rate over the whole run and
                   over the run minus the start-up of empty.elf (import, cached numba load,
                   machine set-up)
  start-up         discovm on empty.elf with an empty numba cache (compilation) and again
                   with the cache filled by that run
  qemu             qemu-system-mipsel -M malta; its time minus its time for empty.elf, for
                   discovm's instruction count of the same program
  no JIT           discovm with NUMBA_DISABLE_JIT=1 on bench-small.elf

Checksums printed by the guest must be the same on both machines (a warning if not).

Usage: python bench/bench_cpu.py [--runs N] [--qemu-runs N] [--no-nojit] [--no-build]
                                 [--json FILE]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "guests", "build")
QEMU = ["qemu-system-mipsel", "-M", "malta", "-cpu", "24Kf", "-nographic", "-no-reboot",
        "-vga", "none", "-nic", "none", "-kernel"]


def elf(target, name):
    return os.path.join(BUILD, target, name + ".elf")


def timed(cmd, env=None, timeout=3600):
    """(seconds, exit status, stdout) of one run."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    return dt, r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")


def checksum(out):
    m = re.search(r"checksum ([0-9a-f]{8})", out)
    return m.group(1) if m else None


class Discovm:
    def __init__(self, cache_dir, nojit=False):
        self.env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        if nojit:
            self.env["NUMBA_DISABLE_JIT"] = "1"
        self.stats = os.path.join(cache_dir, "stats.json")

    def run(self, path):
        """(seconds, guest instructions, stdout)"""
        cmd = [sys.executable, "-m", "discovm", "run", "--kernel", path, "--stats", self.stats]
        if os.path.exists(self.stats):
            os.unlink(self.stats)
        dt, rc, out, err = timed(cmd, self.env)
        if rc != 0:
            raise SystemExit(f"discovm failed on {path} (status {rc}):\n{out[-2000:]}"
                             f"{err[-3000:]}")
        with open(self.stats) as f:
            insns = json.load(f)["instructions"]
        return dt, insns, out

    def best(self, path, runs):
        results = [self.run(path) for _ in range(runs)]
        return min(results, key=lambda r: r[0])


def qemu_best(path, runs):
    best = None
    for _ in range(runs):
        dt, rc, out, err = timed(QEMU + [path], timeout=600)
        if rc != 0:
            raise SystemExit(f"qemu failed on {path} (status {rc}):\n{out[-2000:]}{err}")
        if best is None or dt < best[0]:
            best = (dt, out)
    return best


def mips(insns, seconds):
    return insns / seconds / 1e6 if seconds > 0 else float("nan")


def main(argv=None):
    p = argparse.ArgumentParser(description="discovm CPU benchmark")
    p.add_argument("--runs", type=int, default=3, help="discovm runs of bench.elf (best)")
    p.add_argument("--qemu-runs", type=int, default=5, help="QEMU runs of each program")
    p.add_argument("--no-nojit", action="store_true", help="skip the NUMBA_DISABLE_JIT=1 run")
    p.add_argument("--no-qemu", action="store_true", help="skip QEMU")
    p.add_argument("--no-build", action="store_true", help="do not run make -C guests/bench")
    p.add_argument("--json", metavar="FILE", help="also write the results here")
    a = p.parse_args(argv)

    if not a.no_build:
        subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "guests", "bench")], check=True)
    for t in ("discovm",) + (() if a.no_qemu else ("malta",)):
        for n in ("bench", "bench-small", "empty"):
            if not os.path.exists(elf(t, n)):
                raise SystemExit(f"missing {elf(t, n)}: run make -C guests/bench")
    if not a.no_qemu and not shutil.which(QEMU[0]):
        raise SystemExit("qemu-system-mipsel not found (scripts/install-deps.sh), or --no-qemu")

    res = {}
    warnings = []
    cache = tempfile.mkdtemp(prefix="discovm-bench-numba-")
    try:
        dv = Discovm(cache)
        print("discovm: first start, empty numba cache (compiling) ...", flush=True)
        res["cold_start_s"], _, _ = dv.run(elf("discovm", "empty"))
        res["cached_start_s"] = dv.best(elf("discovm", "empty"), 3)[0]
        print(f"discovm: bench.elf, best of {a.runs} ...", flush=True)
        t, insns, out = dv.best(elf("discovm", "bench"), a.runs)
        res["discovm"] = {"instructions": insns, "wall_s": t,
                          "net_s": t - res["cached_start_s"], "checksum": checksum(out)}
        _, small_insns, small_out = dv.run(elf("discovm", "bench-small"))
        res["small_instructions"] = small_insns
        res["small_checksum"] = checksum(small_out)

        if not a.no_qemu:
            print(f"qemu: empty.elf, bench.elf, best of {a.qemu_runs} ...", flush=True)
            q_empty, _ = qemu_best(elf("malta", "empty"), a.qemu_runs)
            q_t, q_out = qemu_best(elf("malta", "bench"), a.qemu_runs)
            _, q_small_out = qemu_best(elf("malta", "bench-small"), 1)
            res["qemu"] = {"instructions": insns, "wall_s": q_t, "boot_s": q_empty,
                           "net_s": q_t - q_empty, "checksum": checksum(q_out)}
            for what, d, q in (("bench", res["discovm"]["checksum"], checksum(q_out)),
                               ("bench-small", res["small_checksum"],
                                checksum(q_small_out))):
                if d is None or d != q:
                    warnings.append(f"WARNING: {what} checksum differs: discovm {d}, qemu {q}")
            if q_t - q_empty < 0.2:
                warnings.append("note: QEMU's run is short next to its boot; its rate is "
                                "rough (raise ROUNDS in guests/bench/Makefile)")

        if not a.no_nojit:
            print("discovm NUMBA_DISABLE_JIT=1: empty.elf, bench-small.elf ...", flush=True)
            nj = Discovm(cache, nojit=True)
            nj_empty, _, _ = nj.run(elf("discovm", "empty"))
            nj_t, nj_insns, nj_out = nj.run(elf("discovm", "bench-small"))
            res["nojit"] = {"instructions": nj_insns, "wall_s": nj_t,
                            "net_s": nj_t - nj_empty, "checksum": checksum(nj_out)}
            if checksum(nj_out) != res["small_checksum"]:
                warnings.append(f"WARNING: bench-small checksum differs with and without "
                                f"JIT: {res['small_checksum']} vs {checksum(nj_out)}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    print()
    print(f"{'machine':<34}{'guest instr':>13}{'wall s':>9}{'net s':>9}"
          f"{'M instr/s net':>15}{'M instr/s wall':>16}")
    rows = [("discovm (numba), bench.elf", res["discovm"])]
    if "qemu" in res:
        rows.append(("qemu-system-mipsel -M malta", res["qemu"]))
    if "nojit" in res:
        rows.append(("discovm NUMBA_DISABLE_JIT=1, small", res["nojit"]))
    for name, r in rows:
        print(f"{name:<34}{r['instructions'] / 1e6:>11.1f} M{r['wall_s']:>9.2f}{r['net_s']:>9.2f}"
              f"{mips(r['instructions'], r['net_s']):>15.2f}"
              f"{mips(r['instructions'], r['wall_s']):>16.2f}")
    print()
    print(f"discovm start-up (empty.elf): {res['cold_start_s']:.2f} s with an empty numba "
          f"cache (compilation), {res['cached_start_s']:.2f} s cached")
    if "qemu" in res:
        print(f"qemu boot (empty.elf): {res['qemu']['boot_s']:.3f} s; "
              f"qemu / discovm speed (net): "
              f"{mips(insns, res['qemu']['net_s']) / mips(insns, res['discovm']['net_s']):.1f}x")
    print("net = wall minus the same machine's time for empty.elf; best of the runs")
    print(f"checksum: bench {res['discovm']['checksum']}, bench-small {res['small_checksum']}"
          + ("" if warnings else " (same on every machine)"))
    for w in warnings:
        print(w)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    return 1 if any(w.startswith("WARNING") for w in warnings) else 0


if __name__ == "__main__":
    sys.exit(main())
