# Jiceng: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SERVICE_PROJECTS := $(wildcard services/*/pyproject.toml)
STAMP := $(VENV)/.installed

.PHONY: run test unit integration bench install clean-var topology servers

$(STAMP): pyproject.toml $(SERVICE_PROJECTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' $(foreach p,$(SERVICE_PROJECTS),-e $(dir $(p)))
	@touch $(STAMP)

install: $(STAMP)

# RabbitMQ (+ management), PostgreSQL and Redis on this machine; starts what is not running.
servers:
	@bash scripts/local-services.sh

run: $(STAMP)
	$(PY) -m shared.cli run --config config/dev.yaml --demo

test: $(STAMP) servers
	$(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit tests/contracts

integration: $(STAMP) servers
	$(PY) -m pytest -q tests/integration

bench: $(STAMP) servers
	$(PY) -m bench

topology: $(STAMP)
	$(PY) -m shared.cli topology --config config/dev.yaml

clean-var:
	rm -rf var/*.db var/*.db-*
