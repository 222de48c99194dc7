# Two commands: `make run` (the whole service) and `make test` (everything CI checks).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt | md5sum | cut -c1-10)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-10)
PG_VERSION := $(shell ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
WEB_PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: chromium nginx run test install install-dev services database migrate seed superuser lint flower clean backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	rm -f $(VENV)/.runtime-*; touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.dev-* $(VENV)/.runtime-*; touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

# Start the local PostgreSQL / Redis if they are installed but stopped.
services: | $(BIN)/python
	@$(BIN)/python -m config.bootstrap services >/dev/null 2>&1 || { \
	  echo "starting local PostgreSQL and Redis"; \
	  if [ -n "$(PG_VERSION)" ] && command -v pg_ctlcluster >/dev/null; then \
	    pg_ctlcluster --skip-systemctl-redirect $(PG_VERSION) main start 2>/dev/null || true; fi; \
	  if command -v redis-server >/dev/null && ! redis-cli ping >/dev/null 2>&1; then \
	    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null; \
	    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
	      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true; fi; \
	  $(BIN)/python -m config.bootstrap services --wait 30; }

database: services
	@$(BIN)/python -m config.bootstrap database

migrate: install database
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	@if [ -f data/merchants_seed.csv ] && $(BIN)/python manage.py help import_merchants >/dev/null 2>&1; then \
	  $(BIN)/python manage.py import_merchants data/merchants_seed.csv --update; fi
	$(BIN)/python manage.py sync_import_profiles
	$(BIN)/python manage.py load_rates --if-empty

# DEMO=1 make run: also a demo user with a year of activity (manage.py seed_demo; idempotent).
run: install seed nginx
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/python manage.py ensure_admin
	@if [ "$(DEMO)" = "1" ]; then $(BIN)/python manage.py seed_demo; fi
	@echo ""
	@echo "  Tally is starting:"
	@echo "    API docs   http://127.0.0.1:$(WEB_PORT)/api/docs/"
	@echo "    Admin      http://127.0.0.1:$(WEB_PORT)/admin/   (make superuser for a login)"
	@echo "    Live page  http://127.0.0.1:$(WEB_PORT)/live/"
	@echo "    Readiness  http://127.0.0.1:$(WEB_PORT)/ready/"
	@echo ""
	WEB_PORT=$(WEB_PORT) $(BIN)/honcho start -f Procfile

# make backup [DIR=backups]: pg_dump custom format + a manifest with the schema version.
backup: install services
	$(BIN)/python manage.py backup --dir $(or $(DIR),backups)

# make restore FILE=backups/x.dump [DATABASE_URL=...]: into an empty database (created if missing),
# then migrate and verify_ledger.
restore: install database
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/tally-....dump"; exit 2; }
	$(BIN)/python manage.py restore $(FILE)

superuser: migrate
	$(BIN)/python manage.py createsuperuser

lint: install-dev
	$(BIN)/ruff check .

# The browser test drives Debian's chromium through Playwright (never `playwright install`).
chromium:
	@test -x /usr/bin/chromium || { export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; } \
	  || { echo "Install Debian's chromium (apt-get install chromium) for the browser test"; exit 1; }; }

# The web front of make run (config/serve.py) is Debian's nginx, installed here like chromium.
# RUNLEVEL=1: the package's own nginx on port 80 is not started where no policy-rc.d stops it.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1; \
	  apt-get install -y -q --no-install-recommends nginx \
	    || { apt-get update -q && apt-get install -y -q --no-install-recommends nginx; } \
	  || { echo "Install Debian's nginx (apt-get install nginx) for make run and its tests"; exit 1; }; }

test: install-dev services chromium nginx
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache  # a cache can miss imports of a folder that just became a package
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/pytest $(PYTEST_ARGS)

flower: install
	$(BIN)/celery -A config flower --basic-auth=$${FLOWER_BASIC_AUTH:?set FLOWER_BASIC_AUTH=user:password}

clean:
	rm -rf $(VENV) staticfiles
