# make setup: idempotent; creates .venv, installs the locked dependencies, migrates.
# make demo:  the demo school on http://localhost:8000 (SQLite under var/), the example
#             publisher application on http://localhost:8001, the example LAS on
#             http://localhost:8002; e-mails are files in var/mail/.
# make test:  lint, types and the whole test suite (SQLite; DATABASE_URL=postgres://… for PG).
# make screenshots: the guide's images (docs/img/) from the browser tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test lint bench messages clean screenshots

# The static folder (STATIC_ROOT, VAR_DIR/static) exists from the start, so WhiteNoise does not
# warn "No directory at var/static/"; `collectstatic` fills it for production only (a filled
# folder would serve stale copies while developing).
setup: $(STAMP)
	mkdir -p "$${KLASPOORT_VAR_DIR:-var}/static"
	$(BIN)/klaspoort migrate --noinput -v0

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

# The example publisher application (examples/publisher_app) runs beside Klaspoort on :8001 as
# the client of every demo publisher (Malmberg at /, the others under /<slug>/, as registered by
# demo-data's DEMO_CLIENTS); it stops when runserver does (Ctrl-C).
DEMO_APP_ENV := PUBLISHER_APP_CLIENT_ID=klaspoort-demo-malmberg \
	PUBLISHER_APP_CLIENT_SECRET=demo-secret-malmberg-8001 \
	PUBLISHER_APP_POST_LOGOUT_URI=http://localhost:8001/ PUBLISHER_APP_PORT=8001 \
	PUBLISHER_APP_API_URL=http://localhost:8000/api/publisher/v1 \
	PUBLISHER_APP_API_TOKEN=kp_demo-malmberg-roster-8001 \
	PUBLISHER_APP_MOUNTS=noordhoff,thiememeulenhoff \
	PUBLISHER_APP_NOORDHOFF_CLIENT_ID=klaspoort-demo-noordhoff \
	PUBLISHER_APP_NOORDHOFF_CLIENT_SECRET=demo-secret-noordhoff-8001 \
	PUBLISHER_APP_NOORDHOFF_NAME="Noordhoff (demo)" \
	PUBLISHER_APP_THIEMEMEULENHOFF_CLIENT_ID=klaspoort-demo-thiememeulenhoff \
	PUBLISHER_APP_THIEMEMEULENHOFF_CLIENT_SECRET=demo-secret-thiememeulenhoff-8001 \
	PUBLISHER_APP_THIEMEMEULENHOFF_NAME="ThiemeMeulenhoff (demo)"

# The example LAS (examples/las_app) serves the demo school's roster over UWLR on :8002 with
# the key demo-data gives the school's automatic coupling (DEMO_LAS_KEY), generated with the
# seed and size of demo-data's roster, so the first fetch changes nothing and later ones a few.
DEMO_LAS_ARGS := --port 8002 --seed 2025 --pupils-per-school 200 \
	--school 99ZZ00=demo-las-sleutel-99ZZ00-8002

demo: setup
	$(BIN)/klaspoort demo-data
	$(DEMO_APP_ENV) $(BIN)/python -m examples.publisher_app & app=$$!; \
	$(BIN)/python -m examples.las_app $(DEMO_LAS_ARGS) & las=$$!; \
	trap 'kill $$app $$las 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/klaspoort runserver localhost:8000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy klaspoort
	$(BIN)/lint-imports  # the apps' layers (pyproject.toml, docs/architecture.md)

test: lint
	$(BIN)/pytest -n 2 --dist loadfile

# The guide's images (docs/img/) from today's pages: the browser tests take screenshots into a
# fresh folder (only when KLASPOORT_SCREENSHOTS is set), docs/screenshots.py copies the ones the
# guide uses and fails when one is missing. Commit the changed images.
screenshots: setup
	shots=$$(mktemp -d) && trap 'rm -rf "$$shots"' EXIT && \
	KLASPOORT_SCREENSHOTS="$$shots" $(BIN)/pytest -m browser -q -p no:randomly && \
	$(BIN)/python docs/screenshots.py "$$shots"

bench: setup
	$(BIN)/pytest bench --benchmark-only -p no:xdist

# Interface texts: English msgids in the code, Dutch in klaspoort/locale/nl (needs GNU gettext).
# The compiled .mo is committed so a machine without gettext still shows Dutch.
messages: setup
	$(BIN)/klaspoort makemessages -l nl --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=var -v0
	$(BIN)/klaspoort compilemessages --ignore=.venv -v0

clean:
	rm -rf $(VENV) var
