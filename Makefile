# Cohorte — every command a new user needs. `make run` serves the demo, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The newest Python >= 3.12 that actually runs (pyenv shims exist without working).
PYTHON_CANDIDATES := python3.14 python3.13 python3.12 $(shell ls -d /root/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3
PYTHON := $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell $(p) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && echo $(p))))

.PHONY: install run demo worker serve serve-prepare serve-web serve-worker test test-fast lint format check-deploy messages bench load clean

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Cohorte a besoin de Python 3.12 ou plus récent, introuvable ici."; \
	  echo "Installez-le, par exemple : sudo apt-get install python3.12 python3.12-venv (Debian/Ubuntu),"; \
	  echo "brew install python@3.13 (macOS) ou pyenv install 3.13."; \
	  echo "Cohorte needs Python 3.12 or newer; none was found (tried: $(PYTHON_CANDIDATES))."; \
	  exit 1; fi
	@echo "Python : $(PYTHON) ($$($(PYTHON) --version))"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo

run: demo
	@echo "  Cohorte : http://$(HOST):$(PORT)/   (Ctrl-C pour arrêter / to stop)"
	@echo ""
	@$(PY) manage.py scheduler_start
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py db_worker --no-reload & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT)

worker: install
	$(PY) manage.py scheduler_start
	$(PY) manage.py db_worker

# Production (README « En production »): DEBUG off, gunicorn with WEB_CONCURRENCY workers,
# static files by WhiteNoise, the background worker beside it. Each refuses to start on an
# unsafe configuration (cohorte/core/startup.py) before doing anything.
serve serve-prepare serve-web serve-worker: export DEBUG ?= 0
serve serve-prepare serve-web serve-worker: export HOST := $(HOST)
serve serve-prepare serve-web serve-worker: export PORT := $(PORT)

serve-prepare: install
	@$(PY) -m cohorte.core.startup
	$(PY) manage.py serve_prepare  # migrate, collectstatic, scheduler_start in one process

serve: serve-prepare
	@echo "  Cohorte (production) : http://$(HOST):$(PORT)/   (Ctrl-C pour arrêter / to stop)"
	@# set -m: each in its own process group, so Ctrl-C reaches them once, through the trap
	@set -m; \
	  $(PY) manage.py db_worker --no-reload & worker=$$!; \
	  $(BIN)/gunicorn -c python:cohorte.gunicorn_conf & web=$$!; \
	  stop() { trap '' INT TERM; kill -TERM $$web $$worker 2>/dev/null; wait $$web $$worker; }; \
	  trap 'stop; exit 0' INT TERM; \
	  wait -n; status=$$?; stop; exit $$status

serve-web: install
	@$(PY) -m cohorte.core.startup
	exec $(BIN)/gunicorn -c python:cohorte.gunicorn_conf

serve-worker: install
	@$(PY) -m cohorte.core.startup
	exec $(PY) manage.py db_worker --no-reload

# The suite on every core (pytest-xdist; TEST_WORKERS=0 runs it in this process alone).
TEST_WORKERS ?= auto
PYTEST_ARGS ?= -n $(TEST_WORKERS)

test: install
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || (echo "Migrations manquantes : lancez manage.py makemigrations"; exit 1)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy cohorte
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy cohorte

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

check-deploy: install
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ANYMAIL_WEBHOOK_SECRET=anymail:$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))') \
	  ALLOWED_HOSTS=cohorte.example $(PY) manage.py check --deploy --fail-level WARNING

messages: install
	$(PY) manage.py makemessages -l fr -l en --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages

bench: install
	$(PY) bench/participants_table.py
	$(PY) bench/members.py
	$(PY) bench/sending.py
	$(PY) bench/email_log.py
	$(PY) bench/meetings.py
	$(PY) bench/member_import.py
	$(PY) bench/reports.py

# Under load: PostgreSQL and Redis running (DATABASE_URL, REDIS_URL to point elsewhere); two app
# servers, two workers, 50 managers and an API client for 3 minutes, one of each killed at half
# time; prints p50/p95/p99 per page, errors, events and e-mails lost or doubled. LOAD_ARGS=--help
load: install
	$(PY) bench/load/run.py $(LOAD_ARGS)

# The main pages of the demo in French and English at 1280 px, into docs/screenshots/
screenshots: install
	$(PY) bench/screenshots.py $(SCREENSHOTS_ARGS)

clean:
	rm -rf $(VENV) var
