# Thin targets: each calls one tool or script. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book execute test portability runs lab screenshots venv browser lint clean

## book: install, execute every chapter with papermill into a build copy, render _build/html
book: venv
	$(BIN)/python scripts/build_book.py

## execute: re-execute the chapters in place (their committed outputs are the regression reference)
execute: venv browser
	$(BIN)/python scripts/execute_notebooks.py $(NB)

## test: install, lint, unit tests, smoke run, nbval, render the committed outputs, browser checks
test: venv browser
	$(BIN)/python scripts/run_tests.py

## portability: execute every chapter under other numerical kernels, report each printed number that changes
portability: venv
	$(BIN)/python scripts/portability.py

## runs: train the stored reference runs of chapters 5-7 (book/data/runs), resuming unfinished ones
# (RUNS="--dry-run" lists them with their commands; RUNS="--family ch5-optimizers" makes one family)
runs: venv
	$(BIN)/python scripts/make_runs.py --jobs 2 $(RUNS)

## screenshots: one PNG per figure of the rendered book and a contact sheet per chapter (_build/screenshots)
screenshots: venv browser
	test -f _build/html/index.html || $(BIN)/python scripts/build_book.py --committed
	$(BIN)/python scripts/figures.py screenshots

## lab: open the chapters in JupyterLab from the project's environment (live kernels, widgets)
# (As root, e.g. in a container, JupyterLab refuses to start without --allow-root.)
lab: venv
	$(BIN)/jupyter lab --notebook-dir=book $(if $(filter 0,$(shell id -u)),--allow-root)

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==26.3
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	# Only for the CITATION.cff schema it ships (its own dependencies conflict with check-jsonschema's).
	$(BIN)/python -m pip install -q --no-deps cffconvert==2.0.0
	touch $(STAMP)

## browser: a headless Chromium for the rendered-book checks (installed when missing: Debian's, else Playwright's)
browser: venv
	scripts/install_chromium.sh

lint: venv
	$(BIN)/ruff check landscape_lib tests benchmarks scripts book/_ext conftest.py

clean:
	rm -rf _build _vendor
