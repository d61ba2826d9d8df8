# Two commands for a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_WORKERS ?= auto
# More markers to leave out, as "and not browser" (CI's second, SQLite, run does).
MARKS ?=

.PHONY: run test install assets lock bench load-bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the lock files change.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build/css/app.css: node_modules/.installed $(wildcard static/scss/*.scss static/scss/*/*.scss)
	npx sass --load-path=node_modules --no-source-map --style=compressed --quiet-deps \
		static/scss/app.scss build/css/app.css

install: $(VENV)/.installed node_modules/.installed
assets: build/css/app.css

# Browser tests drive Debian's chromium; never a browser downloaded by a test tool.
/usr/bin/chromium:
	@echo "Installing Debian's chromium for the browser tests"
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium

run: install assets
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py load_demo
	@echo ""
	@echo "FCA big rooms is running at http://127.0.0.1:$(PORT)/ (Ctrl+C stops it)"
	@echo ""
	FCA_SITE_URL=http://127.0.0.1:$(PORT) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The whole suite: in parallel, then the tests that stop or start shared services, alone.
test: install assets /usr/bin/chromium
	$(BIN)/python manage.py makemigrations --check --dry-run -v0
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not serial $(MARKS)" $(PYTEST_ARGS)
	$(BIN)/pytest -p no:xdist -m "serial $(MARKS)" $(PYTEST_ARGS) || [ $$? -eq 5 ]

# After changing dependencies in pyproject.toml: pin them again in requirements.lock.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

BENCH_VENV := .bench-venv

$(BENCH_VENV)/bin/python:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip

# The peer packages go into the benchmark's own virtualenv only, never into .venv or the lock.
$(BENCH_VENV)/.installed: requirements.lock bench/requirements.txt | $(BENCH_VENV)/bin/python
	$(BENCH_VENV)/bin/pip install --quiet -r requirements.lock -r bench/requirements.txt
	touch $@

# The chart engine's speed beside its peer packages: a report, see bench/README.md.
bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/spc_bench.py $(BENCH_ARGS)

# Locust against gunicorn with the production settings on PostgreSQL and Redis, five
# minutes (LOAD_ARGS="--duration 60s" for a trial): a report, see bench/README.md.
load-bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/load_bench.py $(LOAD_ARGS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(BENCH_VENV) node_modules build staticfiles db.sqlite3
