# liqengine: one virtual environment (.venv), Node tools in node_modules, the solc-js shim in .solc.
# `make setup` is idempotent: stamps in .stamps/ skip work whose inputs did not change.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON ?= python3
SOLC_VERSION := 0.8.30
VENV := $(ROOT)/.venv
STAMPS := $(ROOT)/.stamps

export PATH := $(ROOT)/node_modules/.bin:$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.solc
export PYTHONDONTWRITEBYTECODE := 1

# Brownie's own Anvil for the contract tests and the gas benchmark: the project's `liqengine-dev`
# network (added by `make setup` on port 8555, or LIQENGINE_DEV_PORT), never `development` on 8545,
# where Brownie attaches to whatever node already listens.
BROWNIE_NETWORK ?= liqengine-dev
CONTRACT_TESTS ?= tests/contracts
PYTHON_TESTS := tests/deploy tests/keeper tests/market tests/packaging tests/alerts
ALERT_TESTS := tests/alerts/*.test.yml

.PHONY: setup test test-contracts test-deploy test-keeper test-alerts demo study bench lint compile abis clean help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: $(STAMPS)/node $(STAMPS)/python $(ROOT)/.solc/solc-v$(SOLC_VERSION) ## install Node tools, .venv, the solc shim, promtool and the Brownie networks (idempotent)
	@tools/configure_brownie_networks.sh
	@tools/install_promtool.sh

$(STAMPS)/node: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMPS)/python: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(ROOT)/.solc/solc-v$(SOLC_VERSION): tools/solc-shim.js
	@mkdir -p $(ROOT)/.solc
	ln -sf ../tools/solc-shim.js $@
	@$@ --version | tail -n 1

compile: setup ## compile every contract with Brownie
	brownie compile

test: setup ## run the whole test suite (contracts on Brownie's Anvil, the deploy script, the keeper, packaging, docs, alerts)
	brownie compile
	python tools/require_free_port.py $(BROWNIE_NETWORK)
	brownie test $(CONTRACT_TESTS) --network $(BROWNIE_NETWORK) -W ignore::FutureWarning $(PYTEST_ARGS)
	python -m pytest -p no:pytest-brownie $(PYTHON_TESTS) $(PYTEST_ARGS)
	promtool check rules keeper/alerts/*.rules.yml
	promtool test rules $(ALERT_TESTS)
	$(MAKE) --no-print-directory audit

test-contracts: setup ## only the Brownie contract tests (CONTRACT_TESTS=tests/contracts/<file> for one file)
	python tools/require_free_port.py $(BROWNIE_NETWORK)
	brownie test $(CONTRACT_TESTS) --network $(BROWNIE_NETWORK) -W ignore::FutureWarning $(PYTEST_ARGS)

test-deploy: setup compile ## only the deploy-script tests (brownie run scripts/deploy.py on Anvil, Ganache, a live network)
	python -m pytest -p no:pytest-brownie tests/deploy $(PYTEST_ARGS)

test-keeper: setup compile ## only the keeper tests (real Anvil nodes, signed transactions)
	python -m pytest -p no:pytest-brownie tests/keeper $(PYTEST_ARGS)

test-alerts: setup ## only the Prometheus alerting rules (promtool check and unit tests)
	promtool check rules keeper/alerts/*.rules.yml
	promtool test rules $(ALERT_TESTS)

demo: setup ## deploy on an embedded Anvil, seed 300 borrowers, replay a crash, let the keeper liquidate, report
	brownie compile
	python scripts/demo.py $(DEMO_ARGS)

study: setup ## replay one market-driven crash per liquidation strategy (dump, throttled, 50% close factor) into reports/study (STUDY_ARGS)
	brownie compile
	python scripts/study.py $(STUDY_ARGS)

bench: setup ## gas and keeper benchmarks into bench/results.json (BENCH_ARGS for bench/keeper.py)
	brownie compile
	python tools/require_free_port.py $(BROWNIE_NETWORK)
	python scripts/brownie_script.py bench/gas.py --network $(BROWNIE_NETWORK)
	python bench/keeper.py $(BENCH_ARGS)

lint: setup ## ruff on Python, solhint on Solidity
	ruff check keeper scripts tests bench tools
	solhint 'contracts/**/*.sol'

.PHONY: audit
audit: setup ## Slither on contracts/ through the solc shim, offline; fails on a high/medium finding not triaged in audit/
	python -m pytest -p no:pytest-brownie -q tests/audit
	python tools/slither_audit.py

abis: compile ## refresh the ABIs the keeper ships (keeper/abi)
	python tools/export_abis.py

clean: ## remove build outputs (keeps .venv and node_modules)
	rm -rf build .pybuild reports .pytest_cache .hypothesis
