# newsclean: `make run` and `make test` set everything up from a bare Python 3.11 + pip + make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= data

.PHONY: setup chromium run test test-faults bench bench-quality clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs exactly what uv.lock pins (pip alone cannot read the lock file).
$(STAMP): pyproject.toml uv.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip "uv==0.13.8"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --all-extras --python $(BIN)/python --compile-bytecode --quiet
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the locked dependencies

run: setup  ## clean the sample articles in seeds/articles into $(OUT)/
	$(BIN)/newsclean run seeds/articles --out $(OUT)

# The report-rendering test opens the HTML report in headless Chromium (Debian's package; needs root to
# install). Without it that one test skips and says why; everything else still runs.
chromium:  ## install Debian's chromium for the report-rendering test, if missing
	@sh scripts/install_chromium.sh || echo "make: chromium not installed; the report-rendering test will skip" >&2

test: setup chromium  ## run every test
	$(BIN)/python -m pytest

# The fault tests' full set: the real CLI killed at every crash point at several commits, with and without
# worker processes and --full, and at random moments (98 kills planned), each kill followed by the invariant
# checker, every second one and every --full one by a finished run checked in full (make test runs a chain
# of 22, at least 20 killed); a full disk on a tmpfs (root only; skipped with the reason); SIGTERM.
test-faults: setup  ## kill, full-disk and recovery tests, the full set (a long run: half an hour or more)
	NEWSCLEAN_FAULTS=full $(BIN)/python -m pytest tests/ops/test_faults.py tests/ops/test_crash.py -s

bench: setup  ## speed and memory benchmarks (prints figures)
	$(BIN)/python scripts/bench_startup.py
	$(BIN)/python scripts/bench_stages.py
	$(BIN)/python scripts/bench_pipeline.py
	$(BIN)/python scripts/bench_memory.py

bench-quality: setup  ## extraction quality on ../shared/bench (text and HTML F1 by the benchmark's scorer; text titles; line model vs rules)
	$(BIN)/python scripts/bench_quality.py --input text
	$(BIN)/python scripts/bench_quality.py --input html
	$(BIN)/python scripts/score_titles.py
	$(BIN)/python scripts/eval_text_model.py

clean:  ## remove the virtualenv and outputs
	rm -rf $(VENV) $(OUT)
