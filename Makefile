# tsunagari-reports — run `make` for the list of commands.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml package.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --silent; \
	  else echo "npm not found: the browser test's accessibility check (axe-core) will be skipped"; fi
	@touch $(STAMP)

.PHONY: help install report sample clean-data test lint lab bench mutation site-clean

help: ## Show these commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the project (once; again when pyproject.toml changes)

report: $(STAMP) ## Build everything from the sample data: clean, reports, comparison, website
	@if ! command -v quarto >/dev/null && [ -z "$$QUARTO" ] && [ ! -x $(BIN)/quarto ]; then \
	  echo "quarto not found on PATH: trying the quarto-cli pip package"; \
	  timeout 300 $(BIN)/python -m pip install --quiet quarto-cli >/dev/null 2>&1 \
	    || echo "quarto-cli could not be installed (it downloads Quarto from the internet)"; \
	fi
	$(BIN)/tsunagari build

sample: $(STAMP) ## Regenerate the synthetic sample surveys in data/raw/
	$(BIN)/tsunagari sample

clean-data: $(STAMP) ## Clean every town's raw files into data/processed/
	$(BIN)/tsunagari clean

test: $(STAMP) ## Run the linter and the test suite (in parallel; it cleans the samples itself)
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest -n auto

lint: $(STAMP) ## Lint and check notebooks are stripped
	$(BIN)/ruff check src tests bench
	$(BIN)/nbstripout --verify notebooks/*.ipynb

lab: $(STAMP) ## Open JupyterLab (own environment .venv-lab); its python3 kernel is the project's .venv
	@test -x .venv-lab/bin/jupyter || { $(PYTHON) -m venv .venv-lab && .venv-lab/bin/pip install --quiet jupyterlab; }
	$(BIN)/python -m ipykernel install --prefix .venv-lab --name python3 --display-name "Python 3 (tsunagari-reports)"
	.venv-lab/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP) ## Run the benchmarks (cleaning 1,000,000 rows; cold and no-change builds; weighted analysis; init; page and PDF; 5, 40 and 160 towns)
	$(BIN)/python bench/bench_clean.py
	$(BIN)/python bench/bench_build.py
	$(BIN)/python bench/bench_weighted.py
	$(BIN)/python bench/bench_init.py
	$(BIN)/python bench/bench_print.py
	$(BIN)/python bench/bench_scale.py --towns 5 40 160

mutation: $(STAMP) ## Mutation testing (slow, not in CI): score per module, surviving mutants (MODULES=stats.disclosure … DIGITS=37)
	@$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[test,mutation]"
	$(BIN)/python tests/mutation.py $(if $(DIGITS),--digits $(DIGITS)) $(MODULES)

site-clean: ## Remove build outputs (processed data, executed notebooks, the site)
	rm -rf build reports/site reports/screenshots data/processed/*/
