# Jiceng: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SERVICE_PROJECTS := $(wildcard services/*/pyproject.toml)
STAMP := $(VENV)/.installed

.PHONY: run test unit integration bench install clean-var topology servers chaos

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

# The whole suite as five pytest processes at once (scripts/test-shards.sh); one path runs alone:
# `make test T=services/affairs`.
test: $(STAMP) servers
	PY=$(PY) bash scripts/test-shards.sh $(T)

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(STAMP) servers
	$(PY) -m pytest -q tests/integration

bench: $(STAMP) servers
	$(PY) -m bench

# Faults against real processes (own vhost and databases per row); fails on anything lost or
# duplicated. CHAOS_SCALE=0.3 for a quicker run, CHAOS_ROWS=id,id for some rows.
chaos: $(STAMP) servers
	$(PY) -m chaos

topology: $(STAMP)
	$(PY) -m shared.cli topology --config config/dev.yaml

clean-var:
	rm -rf var/*.db var/*.db-*
