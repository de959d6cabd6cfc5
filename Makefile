# Two user-facing targets; both set up .venv on first use.
#   make demo   run the main job
#   make test   ruff + the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(PY) examples/demo.py

test: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest
