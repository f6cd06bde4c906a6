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

BENCHMARKS = benchmarks/string_check_throughput.py \
	benchmarks/shaping_throughput.py \
	benchmarks/composition_overhead.py \
	benchmarks/ranked_list_throughput.py \
	benchmarks/math_throughput.py \
	benchmarks/trl_overhead.py \
	benchmarks/judge_throughput.py \
	benchmarks/judge_variants.py \
	benchmarks/reward_model_throughput.py \
	benchmarks/score_end_to_end.py \
	benchmarks/report_summary.py \
	benchmarks/python_grader_throughput.py \
	benchmarks/serve_throughput.py \
	benchmarks/code_throughput.py

# Each script prints its figures; collect.py writes them into benchmarks/RESULTS.md with the date and
# machine facts, reports a failing script there and still runs the others.
bench: $(VENV)/.all
	$(BIN)/python benchmarks/collect.py benchmarks/RESULTS.md $(BENCHMARKS)

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
