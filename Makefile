# The front door: `make test` and `make serve` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test serve lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check fakes3 tests
	$(BIN)/mypy fakes3

test: lint
	$(BIN)/pytest -n auto -q

serve: $(STAMP)
	$(BIN)/fakes3 serve

# The server's resident memory while storing 400 MiB and streaming 1 GiB (see benchmarks/README.md).
.PHONY: bench-memory
bench-memory: $(STAMP)
	$(BIN)/python -m benchmarks.memory

# fakes3 side by side with moto and the floor: throughput, server CPU, start-up, memory (under 10
# minutes; see benchmarks/README.md). Writes benchmarks/results/bench.{json,md,png}.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

.PHONY: bench
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
