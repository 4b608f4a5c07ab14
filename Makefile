# Ladder: `make synth` (synthesize every stack, no AWS account needed) and `make test` (all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CDK := node_modules/.bin/cdk
# Extra CDK context, e.g. make synth CONTEXT="-c profile=prod -c vectorStore=s3vectors"
CONTEXT ?=
# A bare KEY=VALUE would reach cdk as a stack name ("No stacks match"): ask for the -c instead.
ifneq ($(filter-out -%,$(firstword $(CONTEXT))),)
$(error CONTEXT="$(CONTEXT)": each setting needs -c, as in CONTEXT="$(patsubst %,-c %,$(CONTEXT))")
endif
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# checkov pins its own dependencies (an old boto3 among them): it lives in its own virtual environment.
CHECKOV_VENV := .venv-checkov
# make review AGAINST=path/to/earlier/review.json adds what changed since that review.
AGAINST ?=
# make eval-check RUN=eval-runs/<run> [FAIL=rag PASS=prompt]: the run folder whose report.html to check.
RUN ?=
FAIL ?=
PASS ?=

.PHONY: synth test bootstrap doctor deploy diff destroy upload-sample cli clean review review-check eval-check checkov-venv training-image

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

# cfn-lint for make review, at the version requirements-dev.txt pins (without the rest of the test tooling);
# not reinstalled when that version is already there (make test installs it).
$(VENV)/.review-installed: $(VENV)/.app-installed requirements-dev.txt
	@pin="$$(grep '^cfn-lint==' requirements-dev.txt)"; \
	  [ "cfn-lint==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("cfn-lint"))' 2>/dev/null)" = "$$pin" ] \
	  || $(BIN)/pip install --quiet "$$pin"
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

## checkov-venv: install checkov (requirements-checkov.txt) into its own .venv-checkov
checkov-venv: $(CHECKOV_VENV)/.installed

# --prefer-offline takes packages from npm's cache (~/.npm) when it has them; the lock file's integrity
# hashes are checked either way, and anything missing comes from the registry.
node_modules/.installed: package.json package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || (echo "Node 20+ is required" && exit 1)
	npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

## synth: synthesize every stack into cdk.out/ and write the cdk-nag report (no AWS credentials needed)
synth: $(VENV)/.app-installed node_modules/.installed
	$(CDK) synth --quiet $(CONTEXT)
	$(BIN)/python -m stacks.nag_report cdk.out

# The three installs make test needs are independent: they run side by side (pip keeps its download and
# wheel cache, npm its package cache, in the user's cache folders).
.PHONY: test-setup
test-setup: $(VENV)/.dev-installed node_modules/.installed $(CHECKOV_VENV)/.installed
# pytest-xdist workers; each test module (or class) runs whole on one worker, heaviest first (tests/conftest.py).
TEST_WORKERS ?= 2

## test: lint, type-check and run every test (templates, Lambdas, training on a tiny CPU model)
test:
	@$(MAKE) --no-print-directory -j3 test-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

## review: synthesize, then write cdk.out/review/{index.html,REVIEW.md,review.json} (AGAINST=old review.json)
review: $(VENV)/.review-installed node_modules/.installed $(CHECKOV_VENV)/.installed
	@$(if $(AGAINST),test -f "$(AGAINST)" || { echo "AGAINST=$(AGAINST): no such file; pass an earlier cdk.out/review/review.json" >&2; exit 2; })
	$(CDK) synth --quiet $(CONTEXT)
	$(BIN)/python -m stacks.nag_report cdk.out > /dev/null
	$(BIN)/python -m ladder.review cdk.out $(if $(AGAINST),--against $(AGAINST))

## review-check: in headless Chromium at 1280 px: labels 11 px or more, none overlapping, no page errors; screenshot.png
review-check:
	$(BIN)/python -m ladder.review.browser cdk.out/review/index.html

## eval-check: RUN's report.html in headless Chromium: two clicks list where FAIL failed and PASS passed, filters, timings
eval-check:
	@[ -n "$(RUN)" ] || { echo "make eval-check RUN=eval-runs/<run>: name the run folder (FAIL=arm PASS=arm optional)" >&2; exit 2; }
	$(BIN)/python -m ladder.evaluation.check "$(RUN)" $(if $(FAIL),--fail "$(FAIL)") $(if $(PASS),--pass "$(PASS)")

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

## upload-sample: upload the sample corpus into the deployed documents bucket (needs AWS credentials; the same CONTEXT as deploy)
upload-sample: $(VENV)/.cli-installed
	$(BIN)/ladder docs upload sample_corpus $(CONTEXT)

# The prebuilt training image: ECR repository, and a tag that changes with the pins and the Dockerfile.
TRAINING_IMAGE_REPOSITORY ?= ladder-training
TRAINING_IMAGE_TAG ?= pinned-$(shell cat training_jobs/Dockerfile training_jobs/requirements.txt | sha256sum | cut -c1-12)
# Where the Hugging Face base image lives (the AWS Deep Learning Containers account of most regions).
DLC_ACCOUNT ?= 763104351884

## training-image: build training_jobs/Dockerfile (the pins preinstalled) and push it to ECR; needs Docker and AWS credentials
training-image:
	@command -v docker >/dev/null 2>&1 || { echo "make training-image needs Docker (it builds and pushes an image)"; exit 2; }
	@set -euo pipefail; \
	region="$${AWS_REGION:-$${AWS_DEFAULT_REGION:-$$(aws configure get region || true)}}"; \
	test -n "$$region" || { echo "no AWS region: set AWS_REGION or configure one"; exit 2; }; \
	account="$$(aws sts get-caller-identity --query Account --output text)"; \
	registry="$$account.dkr.ecr.$$region.amazonaws.com"; \
	uri="$$registry/$(TRAINING_IMAGE_REPOSITORY):$(TRAINING_IMAGE_TAG)"; \
	aws ecr get-login-password --region "$$region" | docker login --username AWS --password-stdin "$(DLC_ACCOUNT).dkr.ecr.$$region.amazonaws.com"; \
	docker build --platform linux/amd64 --build-arg REGION="$$region" -t "$$uri" training_jobs; \
	aws ecr describe-repositories --region "$$region" --repository-names "$(TRAINING_IMAGE_REPOSITORY)" >/dev/null 2>&1 \
		|| aws ecr create-repository --region "$$region" --repository-name "$(TRAINING_IMAGE_REPOSITORY)" \
			--image-scanning-configuration scanOnPush=true >/dev/null; \
	aws ecr get-login-password --region "$$region" | docker login --username AWS --password-stdin "$$registry"; \
	docker push "$$uri"; \
	echo "Pushed $$uri"; \
	echo "Deploy with: make deploy CONTEXT=\"-c fineTune=true -c fineTuneTrainingImageUri=$$uri\""

## cli: install the operator CLI into .venv, then say how to run it
cli: $(VENV)/.cli-installed
	@echo "ladder is installed in $(BIN)/ladder. Put it on your PATH with: source $(BIN)/activate"
	@echo "then run: ladder --help"

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
