"""The suite every registered service must pass (installed through the ``jiceng.services``
entry point group). Adding a service: register it, then make this file green."""
import pytest

from shared import plugins
from shared.contracts import registry
from shared.contracts.registry import TYPE_PATTERN

from shared import config as config_module

SERVICES = plugins.services()
CONFIG = config_module.load(config_module.ROOT / "config" / "dev.yaml", environ={})
CONTRACTS = registry.all_contracts()


def test_at_least_the_founding_services_are_installed():
    assert "members" in SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_is_named_like_its_entry_point_and_has_health(name):
    cls = SERVICES[name]
    assert cls.name == name and name.isidentifier() and name.islower()
    assert callable(getattr(cls, "health", None))


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_published_type_has_a_registered_contract_of_that_source(name):
    for event_type in plugins.publishes_of(SERVICES[name]):
        assert registry.get(name, event_type).source == name


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_contract_of_a_service_is_declared_in_its_publishes(name):
    declared = set(plugins.publishes_of(SERVICES[name]))
    own = {c.type for c in CONTRACTS if c.source == name}
    assert own <= declared, f"{name} owns contracts it does not declare: {own - declared}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_subscription_has_an_installed_publisher_and_contract(name):
    for spec in plugins.subscriptions_of(SERVICES[name], CONFIG):
        for source, event_type in spec.bindings:
            assert source in SERVICES, f"{spec.queue_name}: no installed service {source}"
            assert event_type in plugins.publishes_of(SERVICES[source]), spec.queue_name
            registry.get(source, event_type)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: f"{c.source}.{c.type}")
def test_contract_is_named_documented_and_its_example_validates(contract):
    assert TYPE_PATTERN.match(contract.type), "types are noun_pasttense"
    assert contract.description, "a contract documents what happened"
    assert isinstance(contract.version, int) and contract.version >= 1
    wire = contract.to_wire(contract.schema.example)
    assert contract.to_wire({**wire, "a_field_from_the_future": 1}) == wire, \
        "consumers must ignore unknown fields"


def test_queue_names_are_unique_across_services():
    _, subscriptions = plugins.bus_participants(CONFIG)
    names = [spec.queue_name for spec in subscriptions]
    assert len(names) == len(set(names))
