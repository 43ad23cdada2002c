# Each target installs what it needs into .venv (Python 3.11 + pip; no GPU needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench bench-keras lint clean

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
	$(BIN)/python -m benchmarks --out bench/bench.json

# TensorFlow in its own venv (its numpy and thread pools stay away from torch's): every case
# study's Keras implementation timed on this machine, alternating with scigan's step.
KERAS_VENV := .venv-keras
$(KERAS_VENV)/bin/python:
	$(PYTHON) -m venv $(KERAS_VENV)
	$(KERAS_VENV)/bin/pip install -q --upgrade pip
	$(KERAS_VENV)/bin/pip install -q tensorflow-cpu==2.21.0 keras==3.15.1

bench-keras: $(BIN)/scigan $(KERAS_VENV)/bin/python
	$(BIN)/python -m benchmarks --keras-python $(KERAS_VENV)/bin/python --out bench/bench_keras.json

lint: $(BIN)/scigan
	$(BIN)/ruff check scigan tests benchmarks

clean:
	rm -rf $(VENV) $(KERAS_VENV) runs data bench
