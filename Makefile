# make run   - set up .venv and start the workbench on http://localhost:8501
# make test  - set up .venv (and Chromium for the browser test, redis-server for the live keeper) and run every check
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE := budget/keeper/_native/STAMP

.PHONY: run test setup browser gateways redis lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# the keeper compiled with mypyc (budget/native.py); a failed build leaves the keeper running as Python
$(NATIVE): $(STAMP) budget/native.py $(wildcard budget/keeper/*.py)
	$(BIN)/python -m budget.native build

setup: $(STAMP) $(NATIVE)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# the open-source Portkey gateway the tests run the exported config in (pinned in gateways/portkey/package.json)
PORTKEY := gateways/portkey/node_modules/@portkey-ai/gateway/build/start-server.js
$(PORTKEY): gateways/portkey/package.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's nodejs and npm for the Portkey gateway test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	npm install --prefix gateways/portkey --no-package-lock --no-audit --no-fund --loglevel=error
	touch $(PORTKEY)

gateways: $(PORTKEY)

# the live keeper's Redis test starts its own redis-server on 127.0.0.1
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing Debian's redis-server for the live keeper's Redis test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }

PORT ?= 8501
run: $(STAMP) $(NATIVE)
	$(BIN)/python scripts/serve.py --server.headless true --server.port $(PORT)

SOURCES := budget tests bench $(wildcard app.py ui.py pages scripts)

lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: $(STAMP) $(NATIVE) browser gateways redis lint
	$(BIN)/python -m pytest

bench: $(STAMP) $(NATIVE)
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/drill.py
	$(BIN)/python bench/calibrate.py
	$(BIN)/python bench/app.py
	$(BIN)/python bench/limits.py

clean:
	rm -rf gateways/portkey/node_modules $(VENV) .pytest_cache .mypy_cache .ruff_cache out budget/keeper/_native budget/keeper/_native.*
