# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test test-fast lint format check-deploy browser-deps clean

# Reinstall only when the pins change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Start everything: Redis (embedded unless REDIS_URL is set), Daphne, one RQ worker. Ctrl-C stops all.
run: export DEBUG ?= true
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	exec $(PY) manage.py run_platform --host $(HOST) --port $(PORT)

## The whole test suite. Browser tests run in processes of their own: Playwright's sync API keeps
## an event loop running in its process, which the async consumer tests cannot share.
test: $(VENV)/.installed browser-deps
	$(PY) -m pytest -n auto -m "not browser" $(PYTEST_ARGS)
	$(PY) -m pytest -n 2 -m browser $(PYTEST_ARGS)

## Everything but the browser and whole-stack tests.
test-fast: $(VENV)/.installed
	$(PY) -m pytest -n auto -m "not browser and not stack" $(PYTEST_ARGS)

## ruff, then mypy (strict on the SDK, its test client and the session runtime; pyproject.toml).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true SECRET_KEY=type-checks-only $(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Django's deployment checklist with production-like variables.
check-deploy: $(VENV)/.installed
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	ALLOWED_HOSTS=dash.example.com CSRF_TRUSTED_ORIGINS=https://dash.example.com \
	DATABASE_URL=postgres://app@db.invalid:5432/dashboards REDIS_URL=redis://cache.invalid:6379/0 \
	$(PY) manage.py check --deploy --fail-level WARNING

## Debian's Chromium and its driver, for the Playwright browser tests (never `playwright install`).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		APT="$$SUDO apt-get -o DPkg::Lock::Timeout=600"; \
		$$APT update -qq && DEBIAN_FRONTEND=noninteractive $$APT install -y -qq chromium chromium-driver >/dev/null; \
	fi

clean:
	rm -rf $(VENV) staticfiles
