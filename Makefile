# Minima developer commands. `make install` first; every target uses .venv.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install proto proto-check lint test run bench catalog eval clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(VENV)/.installed  ## Install the service, the client and the dev tools into .venv

$(VENV)/.installed: $(BIN)/python pyproject.toml client/pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]' -e './client[grpc]'
	touch $@

proto:  ## Regenerate minima_grpc/_gen from protos/
	$(BIN)/python scripts/gen_protos.py

proto-check: proto  ## Fail if the committed generated code drifted from protos/
	git diff --exit-code --stat -- minima_grpc/_gen
	@test -z "$$(git status --porcelain -- minima_grpc/_gen)" || (git status --porcelain -- minima_grpc/_gen; exit 1)

lint:  ## buf lint, ruff, mypy
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy minima_grpc client/minima_client tests bench scripts

test: $(VENV)/.installed  ## Run the test suite (installs first)
	$(BIN)/pytest -q

run: $(VENV)/.installed  ## Start Minima (gRPC :50051, REST :8080) on the embedded memory
	$(BIN)/minima serve

bench:  ## Benchmarks (not tests); figures go in the issue notes
	$(BIN)/python -m bench

catalog:  ## Rebuild the packaged catalog snapshot from LiteLLM's price table
	$(BIN)/python scripts/build_catalog.py

eval:  ## Full routing-quality replay on ../shared/data/routerbench
	$(BIN)/minima eval

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
