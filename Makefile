# fpnotes build/test pipeline. On a fresh clone `make test` (or `make book`) is the only
# command needed: it creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
VPIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: all install book test lint bench assignments clean

all: test

$(VPY):
	$(PY) -m venv $(VENV) && $(VPIP) install -q --upgrade pip

install: $(STAMP)

$(STAMP): pyproject.toml | $(VPY)
	$(VPIP) install -q -e ".[book,test,distributed]"
	touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# Unit tests draw off-screen (Agg); the notebooks keep the kernel's inline backend, since
# under Agg a kernel displays no figures and nbval would miss the stored ones.
test: $(STAMP)
	MPLBACKEND=Agg $(VPY) -m pytest tests
	env -u MPLBACKEND $(VPY) -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider book

lint: $(STAMP)
	$(VENV)/bin/ruff check $(wildcard fpnotes tests benchmarks)

bench: $(STAMP)
	$(VPY) benchmarks/run_all.py

assignments: $(STAMP)
	$(VPY) -m fpnotes.assignments book _assignments

clean:
	rm -rf _build _assignments
