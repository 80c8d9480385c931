# onestop: the two commands a newcomer needs are `make run` and `make test`.
# The distribution's Python 3.11 first: Debian's and Ubuntu's are built with profile-guided
# optimisation and link-time optimisation into the executable, and run onestop's requests
# with about 13% less CPU than a default source build such as pyenv's (a shared libpython
# built without either); docs/decisions/0008-optimised-interpreter.md. One that cannot make
# a virtual environment (no ensurepip) is passed over. `make install PYTHON=...` overrides.
PYTHON ?= $(shell for p in /usr/bin/python3.11 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import ensurepip, venv' 2>/dev/null && { command -v $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PACK ?= kz
export ONESTOP_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test install lint check-browser clean

$(BIN)/onestop: pyproject.toml
	@test -n "$(PYTHON)" && command -v $(PYTHON) >/dev/null || { echo "onestop needs Python 3.11 \
	with its venv module (Debian and Ubuntu: apt-get install python3.11-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/onestop

var/secret_key:
	@mkdir -p var
	@$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@chmod 600 $@

run: install var/secret_key
	$(BIN)/onestop migrate --no-input
	$(BIN)/onestop load-pack $(PACK)
	@# the demo accounts first, so the history features them (kz-citizen's cabinet and
	@# kz-officer's inbox are full); they are printed again just before the server starts
	@$(BIN)/onestop demo-accounts --country $(PACK) > /dev/null
	$(BIN)/onestop demo --country $(PACK) --skip-existing
	@$(MAKE) --no-print-directory var/.assessed-$(PACK)
	$(BIN)/onestop collectstatic --no-input --verbosity 0
	$(BIN)/onestop demo-accounts --country $(PACK)
	@# the links in the demo's messages (the outbox file) open this server
	ONESTOP_SITE_URL=$${ONESTOP_SITE_URL:-http://$(HOST):$(PORT)} \
		$(BIN)/onestop serve --host $(HOST) --port $(PORT) --with-worker

# Once, after the first demo history: an assessment of this year (the quality pages and
# the rankings) and the public site's snapshots (/monitor/). In production these run on
# a schedule (docs/methodology.md, docs/public.md).
var/.assessed-$(PACK):
	$(BIN)/onestop assess --period $$(date +%Y) --scope agency --country $(PACK)
	$(BIN)/onestop assess --period $$(date +%Y) --scope region --country $(PACK)
	$(BIN)/onestop public refresh --country $(PACK)
	@touch $@

# axe-core (accessibility checks in the browser tests) comes from npm; without npm the
# browser tests say so and skip, except in CI where they must run.
node_modules/axe-core/axe.min.js: package.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

# The whole suite: unit, database, API (schemathesis) and browser tests, then the checks.
test: install node_modules/axe-core/axe.min.js
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules
