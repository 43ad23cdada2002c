# Each target installs what it needs into .venv (Python 3.11 + pip; no GPU needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint clean

$(BIN)/scigan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The main job: the thesis DNA GAN on the bundled SARS-CoV-2 genome, then its evaluation.
run: $(BIN)/scigan
	$(BIN)/scigan train dna --run-dir runs/dna
	$(BIN)/scigan evaluate runs/dna --no-progress

test: $(BIN)/scigan
	$(BIN)/python -m pytest

bench: $(BIN)/scigan
	$(BIN)/scigan bench --out bench/bench.json

lint: $(BIN)/scigan
	$(BIN)/ruff check scigan tests

clean:
	rm -rf $(VENV) runs data bench
