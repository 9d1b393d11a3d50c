# backprop-lab: `make run` runs all ten projects and writes runs/index.html; `make test` runs the tests;
# `make notebooks` (or `make lab`) opens the notebooks in JupyterLab.
# Each creates the virtual environment (.venv) and installs what it needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= runs

.PHONY: run test notebooks lab lint bench pictures system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-stamp: setup.cfg pyproject.toml | $(BIN)/python
	@bash .ci/system-deps.sh run
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-stamp: setup.cfg pyproject.toml | $(BIN)/python
	@bash .ci/system-deps.sh test
	$(BIN)/python -m pip install -q -e '.[test,export]'
	touch $@ $(VENV)/.run-stamp

$(VENV)/.notebooks-stamp: setup.cfg pyproject.toml | $(BIN)/python
	@bash .ci/system-deps.sh run
	$(BIN)/python -m pip install -q -e '.[notebooks]'
	touch $@ $(VENV)/.run-stamp

system-deps:
	@bash .ci/system-deps.sh test

run: $(VENV)/.run-stamp
	$(BIN)/backprop-lab run all --out $(OUT)
	@echo "Report: $(OUT)/index.html"

# JupyterLab from the venv, rooted at notebooks/ (the kernel is the venv's Python; runs go to notebooks/runs/);
# as root (in a container, say) Jupyter refuses to start without --allow-root
notebooks lab: $(VENV)/.notebooks-stamp
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks

# two test workers on two cores: one BLAS thread each, so they do not fight over the cores
test: $(VENV)/.test-stamp
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q

lint: $(VENV)/.test-stamp
	$(BIN)/ruff check .

bench: $(VENV)/.test-stamp
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/run.py

# the README's picture: micrograd's lecture neuron, its graph and a page stepping through both passes
NEURON := "tanh(x1*w1 + x2*w2 + b)" --set x1=2 w1=-3 x2=0 w2=1 b=6.8813735870195432
pictures: $(VENV)/.run-stamp
	$(BIN)/backprop-lab graph $(NEURON) -o viz/examples/neuron.svg
	$(BIN)/backprop-lab trace $(NEURON) --html viz/examples/neuron.html --json viz/examples/neuron.json > /dev/null

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info
