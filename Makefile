# Fresh clone -> virtualenv -> demo or full test suite. Only python3 (3.10+) is needed beforehand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --constraint constraints.txt

.PHONY: demo demo-trivia test bench clean

demo: $(VENV)/.core
	$(BIN)/rft score examples/gene_ranking/spec.yaml examples/gene_ranking/data.jsonl -o examples/gene_ranking/scores.jsonl

demo-trivia: $(VENV)/.core
	$(BIN)/rft score examples/spec.yaml examples/data.jsonl -o examples/scores.jsonl

test: $(VENV)/.all
	$(BIN)/python -m pytest

bench: $(VENV)/.all
	$(BIN)/python benchmarks/string_check_throughput.py
	$(BIN)/python benchmarks/composition_overhead.py
	$(BIN)/python benchmarks/ranked_list_throughput.py
	$(BIN)/python benchmarks/math_throughput.py
	$(BIN)/python benchmarks/trl_overhead.py
	$(BIN)/python benchmarks/judge_throughput.py
	$(BIN)/python benchmarks/reward_model_throughput.py
	$(BIN)/python benchmarks/score_end_to_end.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.core: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.all: $(VENV)/bin/python pyproject.toml constraints.txt plugins/rft-jsonschema/pyproject.toml
	$(PIP) -e '.[all,dev]' -e plugins/rft-jsonschema
	touch $@ $(VENV)/.core

clean:
	rm -rf $(VENV) examples/scores.jsonl examples/gene_ranking/scores.jsonl examples/*.resume.json examples/gene_ranking/*.resume.json
