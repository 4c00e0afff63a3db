# edstudy: the two commands a new user needs are `make report` and `make test`.
# Both create .venv with the package and all its extras when it is missing or out of date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
REPORTS ?= reports
PYTEST_ARGS ?=

.PHONY: install test report bench notebooks mutation dashboard lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[all,dev]'
	@touch $(STAMP)

install: $(STAMP)

## Whole test suite (fast part): unit tests, loaders on ../shared/data, notebooks under nbval.
NBVAL := --nbval-lax --nbval-sanitize-with notebooks/nbval_sanitize.cfg
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(NBVAL) tests notebooks $(PYTEST_ARGS)

## Main job: the full simulated study, executed notebooks exported as HTML under reports/.
report: $(STAMP)
	$(BIN)/edstudy report --out $(REPORTS) --overwrite

## Slow checks and benchmarks (numbers go into benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)
	$(BIN)/python benchmarks/run_all.py

## Mutation testing of the core modules with cosmic-ray (hours; not part of `make test`):
## `make mutation MODULE=rules` runs one module (names in mutation/config.toml); MINUTES=30 stops
## each module's run after 30 minutes; a stopped run resumes. Scores and surviving mutants:
## .mutation/<module>/, explained in docs/testing.md.
## cosmic-ray is not a dependency of edstudy (as pyBKT is not): this target installs it.
MODULE ?=
MINUTES ?=
$(BIN)/cosmic-ray: $(STAMP)
	$(BIN)/python -m pip install -q "cosmic-ray>=8.7,<9"

mutation: $(BIN)/cosmic-ray
	$(BIN)/python mutation/run.py $(MODULE) $(if $(MINUTES),--max-minutes $(MINUTES))

## Re-execute the notebooks in place (small parameters) after editing their .py: jupytext pairs
## the .py with its .ipynb, papermill runs it; nbval then compares against these outputs.
NB ?= notebooks/[0-9][0-9]_*.py
notebooks: $(STAMP)
	@for nb in $(NB); do \
	  echo "executing $$nb"; \
	  $(BIN)/jupytext --sync $$nb >/dev/null || exit 1; \
	  ipynb=$$(basename $${nb%.py}.ipynb); \
	  (cd notebooks && ../$(BIN)/papermill --cwd . $$ipynb $$ipynb >/dev/null) || exit 1; \
	done

## Teacher dashboard served with Voila on http://127.0.0.1:8866
dashboard: $(STAMP)
	$(BIN)/voila notebooks/06_teacher_dashboard.ipynb --port=8866 --Voila.ip=127.0.0.1

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks mutation

clean:
	rm -rf $(REPORTS) .pytest_cache .mutation build dist src/*.egg-info
