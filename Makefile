# fpnotes build/test pipeline. On a fresh clone `make test` (or `make book`) is the only
# command needed: it creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
VPIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: all install book test browser-test lint bench assignments notebooks clean

all: test

$(VPY):
	$(PY) -m venv $(VENV) && $(VPIP) install -q --upgrade pip

install: $(STAMP)

$(STAMP): pyproject.toml | $(VPY)
	$(VPIP) install -q -e ".[book,test,distributed,course]"
	touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# Unit tests draw off-screen (Agg); the notebooks keep the kernel's inline backend, since
# under Agg a kernel displays no figures and nbval would miss the stored ones. The browser
# test runs last (it installs Chromium if missing); `make test SKIP_BROWSER=1` skips it.
test: $(STAMP)
	MPLBACKEND=Agg $(VPY) -m pytest tests
	env -u MPLBACKEND $(VPY) -m pytest --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider book
	@if [ -z "$(SKIP_BROWSER)" ]; then $(MAKE) browser-test; fi

CHROMIUM ?= /usr/bin/chromium
# root needs no sudo; anyone else does
SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TOC ?= _toc.yml
BROWSER_BUILD_FLAGS ?= -W -n --keep-going
# MathJax is loaded from a CDN; offline, the browser test serves a local npm copy instead
MATHJAX_DIR := _build/mathjax/node_modules/mathjax

# Opens every page of the built book in headless Chromium: images loaded, maths rendered,
# exercises with hidden solutions, every precomputed slider moves its figure; then serves the
# chapters with interactive figures with a live kernel (Voila) and drags their ipywidgets
# sliders. Screenshots go to _build/screenshots. Pages are built from the stored outputs
# (execution is off in _config.yml; make test has just checked them with nbval).
# (_build/html is removed first so that no page of an earlier build with another toc is tested)
browser-test: $(STAMP)
	@test -x $(CHROMIUM) || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium) \
		|| true
	@if [ ! -x $(CHROMIUM) ]; then echo "browser tests SKIPPED: Chromium is not at" \
		"$(CHROMIUM) and could not be installed with apt-get (set CHROMIUM=...)"; exit 0; fi; \
	set -e; rm -rf _build/html; \
	$(VENV)/bin/jupyter-book build . --toc $(TOC) $(BROWSER_BUILD_FLAGS); \
	test -f $(MATHJAX_DIR)/es5/tex-mml-chtml.js || ! command -v npm >/dev/null || \
		npm install --prefix _build/mathjax --no-audit --no-fund mathjax@3 >/dev/null || true; \
	$(VPY) tests/browser/run.py _build/html --toc $(TOC) --chromium $(CHROMIUM) \
		--screenshots _build/screenshots \
		$$(test -f $(MATHJAX_DIR)/es5/tex-mml-chtml.js && echo --mathjax-dir $(MATHJAX_DIR)); \
	$(VPY) tests/browser/live_widgets.py --chromium $(CHROMIUM) --screenshots _build/screenshots

lint: $(STAMP)
	$(VENV)/bin/ruff check $(wildcard fpnotes tests benchmarks)

bench: $(STAMP)
	$(VPY) benchmarks/run_all.py

# student notebooks and Otter assignments (master, dist/student, dist/autograder) in
# _assignments/, replaced on every run (see book/course.md)
assignments: $(STAMP)
	$(VPY) -m fpnotes.assignments --force book _assignments

# re-execute stored notebooks in place (all, or NB="book/03_singularities.ipynb ...")
NB ?= $(wildcard book/*.ipynb)
notebooks: $(STAMP)
	$(VPY) tests/execute_notebooks.py $(NB)

clean:
	rm -rf _build _assignments
