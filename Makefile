# discovm: the two commands a newcomer needs are `make demo` and `make test`.
# Each installs what it needs: Debian packages (scripts/install-deps.sh, only when
# missing) and a virtual environment with the Python packages of pyproject.toml.

VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: all deps guests test test-slow bench demo clean

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

test: guests
	$(PY) -m pytest -q -n $(JOBS) -m "not slow" tests

test-slow: guests
	$(PY) -m pytest -q -n $(JOBS) -m slow tests

bench: guests
	$(PY) bench/bench_cpu.py

# Boots Debian's own Linux (fetched on first use) on the simulated machine and runs a few
# busybox commands in it; the machine powers off when they are done.
DEMO_CMD = uname -a; echo; cat /proc/cpuinfo | head -6; echo; 	echo "6 x 7 = $$((6*7))"; seq 1 1000 | md5sum; free; ls /

demo: $(STAMP)
	$(VENV)/bin/discovm fetch
	$(VENV)/bin/discovm run --linux --cmd '$(DEMO_CMD)' --stats demo-stats.json
	@$(PY) -c "import json; d = json.load(open('demo-stats.json')); 	print('\n%d guest instructions, %d exceptions, %d TLB refills' % 	(d['instructions'], sum(d['exceptions'].values()), d['tlb_refills']))"

clean:
	$(MAKE) -C guests clean
	rm -rf $(VENV)
