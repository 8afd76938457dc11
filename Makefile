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

GENERATED := minima_grpc/_gen client/minima_client/_grpc/minima_v1.binpb minima_grpc/gateway/proto_comments.json

proto:  ## Regenerate minima_grpc/_gen and the client's descriptor set from protos/
	$(BIN)/python scripts/gen_protos.py
	$(BIN)/python client/scripts/gen_descriptors.py
	$(BIN)/python -c 'from minima_grpc.gateway.comments import main; raise SystemExit(main())'

proto-check: proto  ## Fail if the committed generated code drifted from protos/
	@test -z "$$(git status --porcelain -- $(GENERATED))" || \
		(echo "generated code drifted from protos/: run 'make proto' and commit"; git status --porcelain -- $(GENERATED); exit 1)

lint:  ## buf lint, ruff, mypy
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy minima_grpc client/minima_client client/scripts tests bench scripts

test: $(VENV)/.installed  ## Run the test suite (installs first)
	$(BIN)/pytest -q

run: $(VENV)/.installed  ## Start Minima (gRPC :50051, REST :8080) on the embedded memory
	$(BIN)/minima serve

bench:  ## Benchmarks (not tests); figures go in the issue notes
	$(BIN)/python -m bench

catalog:  ## Rebuild the packaged catalog snapshot from LiteLLM's price table
	$(BIN)/python scripts/build_catalog.py

eval:  ## Full routing-quality replay on ../shared/data/routerbench
	$(BIN)/minima eval --paths 3

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
