# make setup: idempotent; creates .venv, installs the locked dependencies, migrates.
# make demo:  the demo school on http://localhost:8000 (SQLite under var/).
# make test:  lint, types and the whole test suite (SQLite; DATABASE_URL=postgres://… for PG).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test lint bench messages clean

setup: $(STAMP)
	$(BIN)/klaspoort migrate --noinput -v0

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(BIN)/klaspoort demo-data
	$(BIN)/klaspoort runserver localhost:8000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy klaspoort

test: lint
	$(BIN)/pytest -n 2 --dist loadfile

bench: setup
	$(BIN)/pytest bench --benchmark-only -p no:xdist

# Interface texts: English msgids in the code, Dutch in klaspoort/locale/nl (needs GNU gettext).
# The compiled .mo is committed so a machine without gettext still shows Dutch.
messages: setup
	$(BIN)/klaspoort makemessages -l nl --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=var -v0
	$(BIN)/klaspoort compilemessages --ignore=.venv -v0

clean:
	rm -rf $(VENV) var
