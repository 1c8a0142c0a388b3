# microcred: local development entry points. See deploy/local/README.md.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-pyproject
PYTHON ?= $(shell command -v python3.11 || command -v python3)
LOCAL := deploy/local

REDIS_PORT ?= $(or $(MICROCRED_REDIS_PORT),16379)
# 1 Kafka node (default) or 3 (`make up KAFKA_NODES=3`: a 3-node KRaft cluster,
# topics with 3 replicas); every script below reads MICROCRED_KAFKA_NODES.
KAFKA_NODES ?= $(or $(MICROCRED_KAFKA_NODES),1)
export MICROCRED_KAFKA_NODES := $(KAFKA_NODES)

.PHONY: help venv up down wipe lint format test unit faults bench stack-up stack-down stack-status \
	services-up services-down status kafka3-check seed browser-deps bulk-check fonts

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

venv: $(STAMP) fonts ## create .venv and install the project with dev extras (when pyproject changed)

fonts: ## DejaVu Sans and WenQuanYi Micro Hei (apt) for badges and certificates, when missing
	@$(LOCAL)/fonts.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check 'uv==0.9.30'
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -e '.[dev]'
	@touch $@

stack-up: venv ## start Kafka and Redis
	$(LOCAL)/stack.sh up

stack-down: ## stop Kafka and Redis
	$(LOCAL)/stack.sh down

stack-status: ## show whether Kafka and Redis run
	$(LOCAL)/stack.sh status

services-up: venv ## start the four services (the stack must run)
	$(LOCAL)/services.sh up

services-down: ## stop the four services
	$(LOCAL)/services.sh down

status: ## show everything that runs
	@$(LOCAL)/stack.sh status || true
	@$(LOCAL)/services.sh status || true

seed: ## load the demo operator, providers, endorser and achievements (idempotent; the services must run)
	MICROCRED_OPERATOR_TOKENS="$${MICROCRED_OPERATOR_TOKENS:-dev-operator-token=local-operator}" \
	MICROCRED_ENDORSER_TOKENS="$${MICROCRED_ENDORSER_TOKENS:-dev-endorser-token=Local Employers Council}" \
	$(VENV)/bin/python $(LOCAL)/seed.py

up: stack-up services-up seed ## start Kafka, Redis and the four services, with seed data
	@echo
	@echo "microcred is up:"
	@echo "  verifier    http://127.0.0.1:$${MICROCRED_VERIFIER_PORT:-8080}"
	@echo "  catalog     http://127.0.0.1:$${MICROCRED_CATALOG_PORT:-8081}"
	@echo "  issuer      http://127.0.0.1:$${MICROCRED_ISSUER_PORT:-8082}"
	@echo "  revocation  http://127.0.0.1:$${MICROCRED_REVOCATION_PORT:-8083}"
	@echo "  kafka       $$(source $(LOCAL)/common.sh && echo "$$KAFKA_BOOTSTRAP")  (MICROCRED_KAFKA_BOOTSTRAP)"
	@echo "  redis       redis://127.0.0.1:$(REDIS_PORT)/0  (MICROCRED_REDIS_URL)"
	@echo "  logs        var/log/   pid files var/run/   'make down' stops everything"

down: ## stop the services, Kafka and Redis
	$(LOCAL)/services.sh down
	$(LOCAL)/stack.sh down

wipe: down ## stop everything and delete all local state (keeps the jar cache)
	$(LOCAL)/stack.sh wipe
	rm -rf var/keys var/log var/run

lint: venv ## ruff check, ruff format --check and mypy (strict, on shared and services)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv ## reformat the code with ruff
	$(VENV)/bin/ruff format .

bench: venv ## run the benchmarks (each prints its figures against a baseline of the same run)
	$(PY) bench/bench_jwt.py
	$(PY) bench/bench_data_integrity.py
	$(LOCAL)/with-stack.sh $(PY) -m bench.bench_revocation_latency -n 200
	$(LOCAL)/with-stack.sh $(PY) -m bench.bench_shares
	$(LOCAL)/with-stack.sh $(PY) -m bench.bench_verify_batch -n 1000
	$(LOCAL)/with-stack.sh $(PY) bench/bench_verify_http.py
	$(LOCAL)/with-stack.sh $(PY) -m bench.bench_registry_search

bulk-check: venv ## the bulk-job e2e tests with the issue's 10,000-row file (minutes; make test runs 300 rows)
	MICROCRED_BULK_TEST_ROWS=10000 $(LOCAL)/with-stack.sh $(VENV)/bin/pytest -q tests/e2e/test_bulk_jobs.py

faults: venv ## the fault suite with its bigger load, on a Kafka and Redis of its own, prints the table; then the e2e Redis-wipe rebuild test
	MICROCRED_FAULTS_MODE=full $(PY) -m pytest -q tests/faults
	$(LOCAL)/with-stack.sh $(VENV)/bin/pytest -q -m faults tests/e2e/test_rebuild.py

browser-deps: ## chromium, chromium-driver (apt) and axe-core (npm ci) for tests/browser, when missing
	$(LOCAL)/browser.sh

unit: venv ## unit tests only (no Kafka or Redis)
	$(VENV)/bin/pytest -q tests/unit

# Test files that measure time (timing side channels, a heavy request beside
# light ones): run alone, after the others, which run two files at a time.
# The e2e Redis-wipe test (tests/e2e/test_rebuild.py) runs in make faults.
SERIAL_TESTS := tests/e2e/test_verifier_limits.py tests/e2e/test_tenancy.py

test: venv browser-deps ## lint, then every test but the fault suite (make faults) against the real stack (started here if not running)
	$(LOCAL)/stack.sh jars & $(MAKE) --no-print-directory lint && wait $$!
	$(LOCAL)/with-stack.sh bash -c '$(VENV)/bin/pytest -q -n 2 --dist loadfile -m "not faults" \
		$(addprefix --ignore=,$(SERIAL_TESTS)) tests && $(VENV)/bin/pytest -q $(SERIAL_TESTS)'

kafka3-check: venv ## 3-node Kafka: RF 3, min ISR 2, acks=all writes with one broker killed, rejoin
	MICROCRED_KAFKA_NODES=3 $(LOCAL)/with-stack.sh $(PY) $(LOCAL)/kafka3_check.py
