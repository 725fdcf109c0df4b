# China–ASEAN Vocational Cloud LMS. Everything starts from a machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo test install i18n i18n-compile migrate lint format serve clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres,worker]'
	touch $@

install: $(VENV)/.installed

# The player's hls.js, from the npm registry (pinned version, integrity-checked; not committed).
HLS_JS := static/vendor/hls.js/VERSION
$(HLS_JS): lms/media/vendor.py lms/core/vendor.py | $(VENV)/.installed
	$(PY) -m lms.media.vendor
install: $(HLS_JS)

# axe-core for the accessibility tests, the same way (pinned, integrity-checked, not committed).
AXE_JS := static/vendor/axe-core/VERSION
$(AXE_JS): tests/browser/axe.py lms/core/vendor.py | $(VENV)/.installed
	$(PY) -m tests.browser.axe
install: $(AXE_JS)

i18n-compile: install
	$(VENV)/bin/pybabel compile -d translations

migrate: i18n-compile
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) lms demo
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# Two pytest workers (TEST_WORKERS=0 for one process), a test file at a time on each, so a
# module's fixtures (seeded worlds, live servers, browsers) are built once and the tests that
# share Redis queues (tests/media/test_jobs.py) never run at the same time. Each worker has its
# own SQLite files, PostgreSQL databases and free ports.
TEST_WORKERS ?= 2

test: i18n-compile
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Extract every marked string, merge into all 12 catalogues, compile.
i18n: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 \
	  -k pgettext:1c,2 --no-location --sort-output --project china-asean-lms \
	  -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete -w 100
	$(PY) -m lms.core.catalogs fill-source
	$(VENV)/bin/pybabel compile -d translations
	$(PY) -m lms.core.catalogs check || true

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) instance/lms.sqlite3* .pytest_cache

# Performance figures as ratios against a baseline measured in the same run (DESIGN §8).
.PHONY: bench
# PostgreSQL when LMS_BENCH_DATABASE_URL names a server, else SQLite; BENCH_ARGS=--quick for a
# small dry run. Prints a table and writes bench/results/latest.json.
bench: install
	$(PY) -m pip install --quiet -e '.[dev,postgres,worker,bench]'
	$(PY) bench/run.py $(BENCH_ARGS)
