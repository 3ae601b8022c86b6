# Cadence: `make run` starts the app with demo data on the embedded SQLite default;
# `make test` runs the whole suite (on PostgreSQL too when CADENCE_TEST_DATABASE_URL is set).

SHELL := /bin/bash
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
MANAGE := $(UV) run --frozen python manage.py

.PHONY: run test test-clock setup lint format migrate demo schema clean worker scheduler

# uv comes from PyPI into a private venv when the machine has none, so a fresh clone with only
# Python 3.11+ is enough.
$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

setup: $(if $(shell command -v uv 2>/dev/null),,$(TOOLS)/bin/uv)
	$(UV) sync --frozen --quiet

migrate: setup
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) load_demo_data

# The worker runs beat inside it (-B), so the scheduler pass runs every minute on the embedded
# filesystem broker with no server to install; it stops when the web server does.
run: demo
	@echo "Cadence is starting at http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	@echo "Sign in with the demo login printed above (also in var/demo-login.txt)."
	@echo "The Celery worker and scheduler log to var/worker.log."
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(UV) run --frozen celery -A config worker -B --concurrency 1 --loglevel INFO \
		--logfile var/worker.log & worker=$$!; \
	$(MANAGE) runserver --noreload $(HOST):$(PORT)

worker: migrate
	$(UV) run --frozen celery -A config worker -B --loglevel INFO

scheduler: migrate
	$(MANAGE) run_scheduler --once

# Dovecot (Debian package dovecot-imapd) is the real IMAP server the mailbox tests start
# privately; without it those tests skip (CI installs it and refuses to skip).
test: setup
	@[ -x /usr/sbin/dovecot ] || { \
		echo "Installing dovecot-imapd (Debian package) for the mailbox tests"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq dovecot-imapd >/dev/null \
		|| echo "dovecot-imapd could not be installed: the mailbox tests that need it skip"; }
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# The suite with the machine's clock moved by libfaketime (Debian package faketime), as CI runs
# it: `make test-clock CLOCK_OFFSET=+5y`. A test that only passes on some days fails here.
CLOCK_OFFSET ?= +400d
test-clock: setup
	@command -v faketime >/dev/null || { \
		echo "Installing faketime (Debian package) for the moved-clock run"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq faketime >/dev/null; }
	faketime -f "$(CLOCK_OFFSET)" $(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: setup
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

schema: setup
	$(MANAGE) spectacular --validate --fail-on-warn --file var/openapi.yaml

clean:
	rm -rf .venv $(TOOLS) var

# The scheduler benchmark (docs/benchmarks.md): 100,000 plans on a throwaway SQLite file under
# var/, removed afterwards. On PostgreSQL, point it at a dedicated, existing database, e.g.
#   createdb -h 127.0.0.1 -U postgres cadence_bench
#   make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadence_bench BENCH_PLANS=1000000
.PHONY: bench
BENCH_PLANS ?= 100000
BENCH_ARGS ?=
BENCH_SQLITE := $(CURDIR)/var/bench.sqlite3
bench: setup
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then \
		export DATABASE_URL="$(BENCH_DATABASE_URL)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_scheduler --plans $(BENCH_PLANS) $(BENCH_ARGS); \
	else \
		rm -f $(BENCH_SQLITE) $(BENCH_SQLITE)-wal $(BENCH_SQLITE)-shm; \
		export DATABASE_URL="sqlite:///$(BENCH_SQLITE)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_scheduler --plans $(BENCH_PLANS) $(BENCH_ARGS); \
		status=$$?; rm -f $(BENCH_SQLITE) $(BENCH_SQLITE)-wal $(BENCH_SQLITE)-shm; exit $$status; \
	fi

# The sending benchmark (docs/benchmarks.md): one worker sending BENCH_MESSAGES automated emails
# to a local SMTP sink, beside a plain smtplib loop. SQLite file under var/ by default, removed
# afterwards; BENCH_DATABASE_URL as above for PostgreSQL (it must hold no queued email).
.PHONY: bench-outbox
BENCH_MESSAGES ?= 2000
BENCH_OUTBOX_SQLITE := $(CURDIR)/var/bench-outbox.sqlite3
bench-outbox: setup
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then \
		export DATABASE_URL="$(BENCH_DATABASE_URL)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_outbox --messages $(BENCH_MESSAGES) $(BENCH_ARGS); \
	else \
		rm -f $(BENCH_OUTBOX_SQLITE) $(BENCH_OUTBOX_SQLITE)-wal $(BENCH_OUTBOX_SQLITE)-shm; \
		export DATABASE_URL="sqlite:///$(BENCH_OUTBOX_SQLITE)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_outbox --messages $(BENCH_MESSAGES) $(BENCH_ARGS); \
		status=$$?; rm -f $(BENCH_OUTBOX_SQLITE) $(BENCH_OUTBOX_SQLITE)-wal $(BENCH_OUTBOX_SQLITE)-shm; exit $$status; \
	fi

# The mailbox benchmark (docs/benchmarks.md): a private Dovecot (Debian package dovecot-imapd,
# run as root) with 200 mailboxes of 50 new messages each, synced by 2 worker processes; an idle
# sync; reply-to-stop over 3 minutes of syncs every 60 s; replies racing the outbox. SQLite file
# under var/ by default, removed afterwards; BENCH_DATABASE_URL as above for PostgreSQL (it must
# hold no mailboxes), e.g.
#   createdb -h 127.0.0.1 -U postgres cadence_bench_mail
#   make bench-mailboxes BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadence_bench_mail
# A quick try: make bench-mailboxes BENCH_ARGS="--mailboxes 20 --interval 5 --duration 20"
.PHONY: bench-mailboxes
BENCH_MAILBOXES_SQLITE := $(CURDIR)/var/bench-mailboxes.sqlite3
bench-mailboxes: setup
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then \
		export DATABASE_URL="$(BENCH_DATABASE_URL)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_mailboxes $(BENCH_ARGS); \
	else \
		rm -f $(BENCH_MAILBOXES_SQLITE) $(BENCH_MAILBOXES_SQLITE)-wal $(BENCH_MAILBOXES_SQLITE)-shm; \
		export DATABASE_URL="sqlite:///$(BENCH_MAILBOXES_SQLITE)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_mailboxes $(BENCH_ARGS); \
		status=$$?; rm -f $(BENCH_MAILBOXES_SQLITE) $(BENCH_MAILBOXES_SQLITE)-wal $(BENCH_MAILBOXES_SQLITE)-shm; exit $$status; \
	fi

# Screenshots of the main pages with demo data (README), in docs/screenshots/; needs Chromium.
.PHONY: screenshots
screenshots: setup
	$(MANAGE) screenshots

# The history analysis benchmark (docs/benchmarks.md): a generated history of 100,000 and then
# 1,000,000 activities (BENCH_SIZES), the analysis timed and its memory measured at each size.
# SQLite file under var/ by default, removed afterwards (so the data is not deleted row by row:
# --keep); BENCH_DATABASE_URL as above for PostgreSQL (it must hold no other activities).
.PHONY: bench-analysis
BENCH_SIZES ?= 100000,1000000
BENCH_ANALYSIS_SQLITE := $(CURDIR)/var/bench-analysis.sqlite3
bench-analysis: setup
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then \
		export DATABASE_URL="$(BENCH_DATABASE_URL)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_analysis --sizes $(BENCH_SIZES) $(BENCH_ARGS); \
	else \
		rm -f $(BENCH_ANALYSIS_SQLITE) $(BENCH_ANALYSIS_SQLITE)-wal $(BENCH_ANALYSIS_SQLITE)-shm; \
		export DATABASE_URL="sqlite:///$(BENCH_ANALYSIS_SQLITE)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_analysis --sizes $(BENCH_SIZES) --keep $(BENCH_ARGS); \
		status=$$?; rm -f $(BENCH_ANALYSIS_SQLITE) $(BENCH_ANALYSIS_SQLITE)-wal $(BENCH_ANALYSIS_SQLITE)-shm; exit $$status; \
	fi

# The analytics reports benchmark (docs/benchmarks.md): a generated organisation history of
# BENCH_PLANS plans with about 10 activities each, and the four reports timed for the whole
# organisation over one year. SQLite file under var/ by default (100,000 plans), removed
# afterwards (so the history is not deleted row by row: --keep); BENCH_DATABASE_URL as above for
# PostgreSQL (1,000,000 plans by default; it must hold no other plans), e.g.
#   createdb -h 127.0.0.1 -U postgres cadence_bench_analytics
#   make bench-analytics BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadence_bench_analytics
.PHONY: bench-analytics
BENCH_ANALYTICS_SQLITE := $(CURDIR)/var/bench-analytics.sqlite3
# BENCH_PLANS when given, else the size of each database's target (the default above is the
# scheduler's).
BENCH_ANALYTICS_PLANS = $(if $(filter command line environment,$(origin BENCH_PLANS)),$(BENCH_PLANS),$(if $(BENCH_DATABASE_URL),1000000,100000))
bench-analytics: setup
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then \
		export DATABASE_URL="$(BENCH_DATABASE_URL)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_analytics --plans $(BENCH_ANALYTICS_PLANS) $(BENCH_ARGS); \
	else \
		rm -f $(BENCH_ANALYTICS_SQLITE) $(BENCH_ANALYTICS_SQLITE)-wal $(BENCH_ANALYTICS_SQLITE)-shm; \
		export DATABASE_URL="sqlite:///$(BENCH_ANALYTICS_SQLITE)"; \
		$(MANAGE) migrate --noinput -v0 && \
		$(MANAGE) bench_analytics --plans $(BENCH_ANALYTICS_PLANS) --keep $(BENCH_ARGS); \
		status=$$?; rm -f $(BENCH_ANALYTICS_SQLITE) $(BENCH_ANALYTICS_SQLITE)-wal $(BENCH_ANALYTICS_SQLITE)-shm; exit $$status; \
	fi
