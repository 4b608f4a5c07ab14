# Ladder: `make synth` (synthesize every stack, no AWS account needed) and `make test` (all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CDK := node_modules/.bin/cdk
# Extra CDK context, e.g. make synth CONTEXT="-c profile=prod -c vectorStore=s3vectors"
CONTEXT ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth test bootstrap doctor deploy diff destroy upload-sample cli clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.app-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt training_jobs/requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(VENV)/.app-installed $@

# The operator CLI (ladder ...) needs only the app and boto3, not the test tooling.
$(VENV)/.cli-installed: $(VENV)/.app-installed pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || (echo "Node 20+ is required" && exit 1)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: synthesize every stack into cdk.out/ and write the cdk-nag report (no AWS credentials needed)
synth: $(VENV)/.app-installed node_modules/.installed
	$(CDK) synth --quiet $(CONTEXT)
	$(BIN)/python -m stacks.nag_report cdk.out

## test: lint, type-check and run every test (templates, Lambdas, training on a tiny CPU model)
test: $(VENV)/.dev-installed node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bootstrap: $(VENV)/.app-installed node_modules/.installed
	$(CDK) bootstrap $(CONTEXT)

diff: $(VENV)/.app-installed node_modules/.installed
	$(CDK) diff --all $(CONTEXT)

deploy: $(VENV)/.app-installed node_modules/.installed
	$(CDK) deploy --all $(CONTEXT)

destroy: $(VENV)/.app-installed node_modules/.installed
	$(CDK) destroy --all $(CONTEXT)

## doctor: read-only preflight of the target account/region before deploy (needs AWS credentials)
doctor: $(VENV)/.cli-installed
	$(BIN)/ladder doctor $(CONTEXT)

## upload-sample: upload the sample corpus into the deployed documents bucket (needs AWS credentials)
upload-sample: $(VENV)/.cli-installed
	$(BIN)/ladder docs upload sample_corpus

## cli: install the operator CLI into .venv (then: .venv/bin/ladder --help)
cli: $(VENV)/.cli-installed

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
