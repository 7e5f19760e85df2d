# discovm: the two commands a newcomer needs are `make demo` and `make test`.
# Each installs what it needs: Debian packages (scripts/install-deps.sh, only when
# missing) and a virtual environment with the Python packages of pyproject.toml.

VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: all deps guests warm test test-slow bench demo clean

all: guests

$(STAMP): pyproject.toml scripts/install-deps.sh
	./scripts/install-deps.sh
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

deps: $(STAMP)

guests: $(STAMP)
	$(MAKE) -C guests

# Compile the engine's loops once (functional, timing, under the monitor) before the
# parallel tests start, so that they share numba's on-disk cache instead of each
# compiling them (about 20 s apiece on a fresh machine).
# It also fetches Debian's packages (once, into ./cache) so that no Linux test is skipped
# on a fresh machine for want of them.
warm: guests
	@$(PY) -m discovm fetch > /dev/null
	@$(PY) -m discovm run --kernel guests/build/discovm/hello.elf > /dev/null
	@$(PY) -m discovm run --kernel guests/build/discovm/hello.elf --timing > /dev/null
	@$(PY) -m discovm run --kernel guests/build/discovm/hello.elf --vm > /dev/null

test: warm
	$(PY) -m pytest -q -n $(JOBS) -m "not slow" tests

test-slow: guests
	@$(PY) -m discovm.guests.debian --malta > /dev/null   # QEMU's Malta kernel, the oracle
	$(PY) -m pytest -q -n $(JOBS) -m slow tests

bench: guests
	$(PY) bench/bench_cpu.py
	$(PY) bench/bench_system.py

# Two operating systems side by side on one simulated 4-CPU NUMA machine, under the
# monitor: Debian's own Linux (fetched on first use) running a few busybox commands, and
# the thin OS running a parallel radix sort on 3 VCPUs; then the monitor's statistics.
demo: guests
	$(VENV)/bin/discovm fetch
	$(VENV)/bin/discovm run --config examples/demo.toml --stats demo-stats.json

clean:
	$(MAKE) -C guests clean
	rm -rf $(VENV)
