# Fresh clone -> virtualenv -> demo or full test suite. Only python3 (3.10+) is needed beforehand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --constraint constraints.txt

.PHONY: demo demo-trivia test lint bench clean system-packages

demo: $(VENV)/.core
	$(BIN)/rft score examples/gene_ranking/spec.yaml examples/gene_ranking/data.jsonl -o examples/gene_ranking/scores.jsonl

demo-trivia: $(VENV)/.core
	$(BIN)/rft score examples/spec.yaml examples/data.jsonl -o examples/scores.jsonl

test: $(VENV)/.all system-packages lint
	$(BIN)/python -m pytest

# ruff, mypy (strict on rft_core/kernel) and import-linter's contracts; configured in pyproject.toml.
lint: $(VENV)/.all
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

# Tests also need Debian's Chromium (the HTML report renders in it), WordNet (text_similarity's
# meteor) and bubblewrap (the python grader's sandbox). Installed with apt-get when missing and we
# may; otherwise the message says what to install.
SYSTEM_PACKAGES := chromium wordnet-base bubblewrap
system-packages:
	@if command -v chromium >/dev/null && [ -f /usr/share/wordnet/data.noun ] && command -v bwrap >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "make test needs the system packages: $(SYSTEM_PACKAGES) (e.g. sudo apt-get install $(SYSTEM_PACKAGES))" >&2; exit 1; fi

bench: $(VENV)/.all
	$(BIN)/python benchmarks/string_check_throughput.py
	$(BIN)/python benchmarks/shaping_throughput.py
	$(BIN)/python benchmarks/composition_overhead.py
	$(BIN)/python benchmarks/ranked_list_throughput.py
	$(BIN)/python benchmarks/math_throughput.py
	$(BIN)/python benchmarks/trl_overhead.py
	$(BIN)/python benchmarks/judge_throughput.py
	$(BIN)/python benchmarks/judge_variants.py
	$(BIN)/python benchmarks/reward_model_throughput.py
	$(BIN)/python benchmarks/score_end_to_end.py
	$(BIN)/python benchmarks/report_summary.py
	$(BIN)/python benchmarks/python_grader_throughput.py
	$(BIN)/python benchmarks/serve_throughput.py
	$(BIN)/python benchmarks/code_throughput.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.core: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.all: $(VENV)/bin/python pyproject.toml constraints.txt plugins/rft-jsonschema/pyproject.toml
	$(PIP) -e '.[all,dev]' -e plugins/rft-jsonschema
	$(PIP) --no-deps openrlhf==0.11.2 pylatexenc  # OpenRLHF's own reward client for tests/test_serve_app.py (its deps need CUDA)
	touch $@ $(VENV)/.core

clean:
	rm -rf $(VENV) examples/scores.jsonl examples/gene_ranking/scores.jsonl examples/*.resume.json examples/gene_ranking/*.resume.json
