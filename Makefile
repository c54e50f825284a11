# The newcomer's two commands: `make run` and `make test`. Each sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint format check-deploy demo-code worker beat lock clean

help:
	@echo "make run         set up, load the demo and start the site on http://127.0.0.1:8000"
	@echo "make test        set up and run the whole suite on PostgreSQL, Redis and a real Celery worker"
	@echo "make lint        ruff check, format check and the import contracts"
	@echo "make demo-code   the current two-factor code of the demo staff accounts"
	@echo "make lock        re-pin requirements/constraints.txt after changing pyproject.toml"

$(INSTALLED): pyproject.toml requirements/constraints.txt
	@scripts/ensure-venv "$(PYTHON)" "$(VENV)"
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e ".[dev]"
	@touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	@scripts/run

test: $(INSTALLED)
	@scripts/test $(ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(INSTALLED)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

demo-code: $(INSTALLED)
	@DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py demo_code

# A worker and beat on their own, for a deployment that runs them apart from `make run`; each is started again if
# it exits (scripts/supervise).
worker: $(INSTALLED)
	$(PY) scripts/supervise worker -- $(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(INSTALLED)
	$(PY) scripts/supervise beat -- $(VENV)/bin/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

lock:
	@scripts/ensure-venv "$(PYTHON)" "$(VENV).lock"
	$(VENV).lock/bin/python -m pip install --quiet -e ".[dev]"
	( echo "# Exact versions of every dependency, so a fresh install is the one the suite passed on."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  $(VENV).lock/bin/python -m pip freeze --exclude-editable | grep -v '^vigil' ) > requirements/constraints.txt
	rm -rf $(VENV).lock

clean:
	rm -rf $(VENV) var/test .pytest_cache .ruff_cache
