# Hands-on PyTorch. The two commands (see README.md):
#   make book   set everything up, run every chapter with the full budget, build the website
#   make test   set everything up, run the unit tests, every chapter (quick budget) and a quick build
#   make lab    set everything up and open the chapters in JupyterLab (BOOK_QUICK=1: quick budget)
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help book test quick check-site lab bench translations setup system-deps data clean

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# JOBS: chapters run side by side, each with its share of the cores (make test JOBS=1: serial)
JOBS ?= 2
FULL := _build/full
QUICK_DIR := _build/quick
# tools/book.py runs the chapters into MyST-NB's execution cache, JOBS at a time (only those
# the cache lacks), then the one Jupyter Book command line with its flags (-W --keep-going)
BOOK := $(BIN)/python tools/book.py --jobs $(JOBS)
# The execution cache keys on a chapter's cells only, so a change to what the cells import or
# run must clear it: helpers/, a chapter's script or params.json (notebooks/*/), the pinned
# packages. CACHE_STAMP is touched when the cache is cleared; an input newer than it clears it.
CACHE_INPUTS := requirements.txt $(shell find helpers notebooks \( -name '*.py' -o -name '*.json' \) \
  -not -path '*/__pycache__/*' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)
CACHE_STAMP := $(FULL)/.stamp

help:
	@echo "make book  - build the website with the full run budget (into $(FULL)/_build/html)"
	@echo "make test  - unit tests, every chapter as an nbval test, and a quick build of the site"
	@echo "            checked in headless Chromium (tests/site)"
	@echo "make check-site - the same browser test on the full website from make book"
	@echo "make bench - how long each chapter and the Sphinx pass take, serial beside JOBS at a time;"
	@echo "            BENCH_ARGS='--budget quick --chapters 01_tensors 04_regression' for a few"
	@echo "make translations - after an English edit: update the Chinese catalogues (book/locale)"
	@echo "make lab   - JupyterLab on 127.0.0.1: a chapter's .md opens as a notebook (double click);"
	@echo "            full budget, or quick with make lab BOOK_QUICK=1; LAB_ARGS=--port=8890 adds options"

## book: the website, every chapter run with the full budget (cached between builds)
book: setup $(CACHE_STAMP)
	env -u BOOK_QUICK $(BOOK) --out $(FULL)
	@echo "Website: $(FULL)/_build/html/index.html"

$(CACHE_STAMP): $(CACHE_INPUTS)
	@if [ -d $(FULL)/_build/.jupyter_cache ]; then \
	  echo "helpers/, a chapter's script or requirements.txt changed: clearing the execution cache"; \
	  rm -rf $(FULL)/_build/.jupyter_cache; fi
	@mkdir -p $(@D) && touch $@

## test: everything a change must pass (CI runs exactly this); JOBS chapters at a time
test: setup
	$(BIN)/python -m pytest -n $(JOBS)

## quick: only the quick-budget website (a fresh build, never cached)
quick: setup
	BOOK_QUICK=1 $(BOOK) --out $(QUICK_DIR) --fresh

## check-site: the browser test (tests/site) on the full website `make book` built, with
## screenshots (_build/screenshots; BOOK_SCREENSHOTS=0 skips them)
check-site: setup
	BOOK_SITE=$(FULL)/_build/html BOOK_SCREENSHOTS=$${BOOK_SCREENSHOTS:-1} $(BIN)/python -m pytest tests/site

## bench: the build's timings, serial beside parallel (tools/bench.py; BENCH_ARGS narrows it)
bench: setup
	$(BIN)/python tools/bench.py --jobs $(JOBS) $(BENCH_ARGS)

## lab: JupyterLab on the project (settings in book/lab/jupyter_lab_config.py); the kernel runs
## the full budget unless BOOK_QUICK=1 is given, e.g. `make lab BOOK_QUICK=1`
lab: setup
	env $(if $(filter 1 true yes,$(BOOK_QUICK)),BOOK_QUICK=1,-u BOOK_QUICK) \
	  $(BIN)/jupyter lab --config=book/lab/jupyter_lab_config.py $(LAB_ARGS)

## translations: extract the English messages, update book/locale/zh_CN's catalogues (new
## messages empty, changed ones fuzzy) and count what is left to translate per page
translations: $(INSTALLED)
	$(BIN)/python tools/translate.py update

setup: $(INSTALLED) system-deps data

# After the install, rfc3987-syntax goes: jsonschema (which nbformat and JupyterLab use) imports
# it when it is there, and that builds about 35 Earley parsers, 2.8 s in every chapter's kernel
# (its first glue) and every process that reads a notebook. It only checks the "iri" format,
# which no schema here uses; without it jsonschema skips that format (pip check agrees).
$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 or newer is needed"'
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt -e .
	$(BIN)/python -m pip uninstall -y rfc3987-syntax
	touch $@

## system-deps: Debian's Fashion-MNIST, fortunes (text), Chromium and a CJK font (for the browser
## test of both editions), when we may install
system-deps:
	@need=""; \
	[ -d /usr/share/datasets/fashion-mnist ] || [ -e data/FashionMNIST/raw/train-images-idx3-ubyte.gz ] || need="$$need dataset-fashion-mnist"; \
	[ -d /usr/share/games/fortunes ] || [ -d data/fortunes ] || need="$$need fortunes"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto | grep -q CJK || need="$$need fonts-noto-cjk"; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages:$$need"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	else \
	  echo "note: could not install$$need (needs root and apt-get); see README.md"; \
	fi

# verified once per data root (the stamp goes with `make clean`); every chapter still verifies
# the archives it loads, with an error that says how to fix a missing or corrupt file
DATA_STAMP = _build/.data-verified$(subst /,_,$(abspath $(or $(BOOK_DATA),data)))
data: $(INSTALLED)
	@if [ -f "$(DATA_STAMP)" ]; then echo "Fashion-MNIST: verified before ($(DATA_STAMP))"; \
	else $(BIN)/python -m helpers fashion && mkdir -p _build && touch "$(DATA_STAMP)"; fi

clean:
	rm -rf _build outputs .pytest_cache
