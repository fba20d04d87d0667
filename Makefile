# The two commands a newcomer needs are `make run` and `make test` (see README.md).
# Everything else here is what they are made of.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# uv must use the machine's interpreters: nothing is downloaded but packages.
export UV_PYTHON_DOWNLOADS := never
export RASA_TELEMETRY_ENABLED := false
PY311 = $(shell scripts/find-python.sh 3.11)
PY310 = $(shell scripts/find-python.sh 3.10)
BOT_PY := .venv-bot/bin/python
APP_PY := .venv/bin/python

.PHONY: help
help:
	@echo "make run    the whole stack on SQLite with demo data (chat page: http://localhost:8000)"
	@echo "make test   the whole test suite (SQLite and PostgreSQL)"

# ---------------------------------------------------------------- environments
$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PY311) --quiet
	touch $@

.venv-bot/.installed: bot/requirements.lock | $(UV)
	[ -x $(BOT_PY) ] || $(UV) venv --quiet --python $(PY310) .venv-bot
	$(UV) pip sync --quiet --python $(BOT_PY) bot/requirements.lock
	touch $@

.PHONY: env env-app env-bot lock
env: env-app env-bot
env-app: .venv/.installed
env-bot: .venv-bot/.installed

lock: | $(UV)
	$(UV) lock --python $(PY311)
	$(UV) pip compile --quiet bot/requirements.in --python $(PY310) -o bot/requirements.lock

# ---------------------------------------------------------------- assets
# The socket.io browser client comes from the npm registry at setup time (no CDN at run time).
SOCKETIO_JS := backend/web/static/vendor/socket.io.min.js
$(SOCKETIO_JS):
	scripts/fetch-socketio-client.sh

# Compiled message catalogs (the .po files are the source).
.PHONY: locales
locales: .venv/.installed
	@for po in $$(find locales -name '*.po'); do \
	  .venv/bin/pybabel compile --use-fuzzy -i "$$po" -o "$${po%.po}.mo" >/dev/null; done

# Headless Chromium from Debian for the browser tests (Playwright drives it; no browser download).
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# ---------------------------------------------------------------- the bot's model
.PHONY: model
model: .venv-bot/.installed
	scripts/model.sh

# ---------------------------------------------------------------- run
DEMO_DB := var/demo.db
.PHONY: run demo-db
demo-db: .venv/.installed locales
	mkdir -p var
	DEMO_MODE=1 DATABASE_URL=sqlite:///$(DEMO_DB) $(APP_PY) -m backend.demo

run: env $(SOCKETIO_JS) locales model demo-db
	$(APP_PY) scripts/stack.py --database-url sqlite:///$(DEMO_DB)

# ---------------------------------------------------------------- test
# PostgreSQL tests use the server at 127.0.0.1:5432 (database `test`). Under CI a missing
# server fails the run (REQUIRE_POSTGRES=1), on a developer's machine those tests are skipped.
export TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: test test-backend test-bot test-stories lint typecheck
test: env $(SOCKETIO_JS) locales model chromium
	$(APP_PY) scripts/test_all.py

lint: .venv/.installed
	.venv/bin/ruff check backend bot tests scripts bench

typecheck: .venv/.installed
	.venv/bin/mypy

# ---------------------------------------------------------------- slow reports (not in `make test`)
.PHONY: nlu-report bench
nlu-report: model
	.venv-bot/bin/rasa test nlu --config config.yml --nlu bot/data --cross-validation --folds 5 \
	  --out results/nlu-cv
	@echo "Report: results/nlu-cv/intent_report.json (docs/BOT.md keeps the figures)"

# docs/BENCHMARKS.md keeps the figures and says how to read them.
bench: env model
	$(APP_PY) bench/turn_latency.py
	$(APP_PY) bench/registration_night.py
	$(APP_PY) bench/sql_counts.py
	$(APP_PY) bench/rush_rehearsal.py
