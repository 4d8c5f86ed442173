"""The tickets service on a real session (no broker), then over the real RabbitMQ, on
PostgreSQL and SQLite."""
import pytest

from services.tickets import entries
from services.tickets.service import TicketsService
from shared import migrate, plugins
from shared.bus.rpc import rpc_client
from shared.contracts.envelope import Envelope
from shared.errors import InvalidInput, NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy, publish_raw

UNIT = {"org_unit_id": 12, "parent_id": 2, "township_id": 2, "kind": "village_branch",
        "name": "前辛庄村党支部"}


@pytest.fixture
def url(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(TicketsService, url)
    return url


def test_an_entry_needs_a_known_unit_and_publishes_what_it_recorded(url):
    store = TicketsService.store.handle(url)
    with pytest.raises(NotFound):
        with store.transaction() as session:
            entries.record(session, {"unit_id": 12, "title": "first"})
    with store.transaction() as session:
        entries.learn_unit(session, UNIT)
    with store.transaction() as session:
        recorded = entries.record(session, {"unit_id": 12, "title": " first  entry "})
    assert recorded["title"] == "first entry"
    with store.reading() as session:
        assert entries.get(session, recorded["id"]) == recorded


@pytest.mark.integration
def test_over_the_broker_it_learns_units_and_records_each_request_once(amqp_uri, url):
    config = make_config(amqp_uri, {"tickets": url})
    plugins.register(TicketsService)
    spy = EventSpy(amqp_uri, "tickets")
    try:
        with services_running(config, TicketsService):
            publish_raw(config, Envelope("org_unit_created", "members", UNIT).to_wire(), "u-12")
            with rpc_client(config, idempotency_key="entry-1") as cluster:
                service = getattr(cluster, "tickets")
                first = wait_for(lambda: _record(service, {"unit_id": 12, "title": "first"}),
                                 message="the unit learned from members' event")
                assert service.record_entry({"unit_id": 12, "title": "first"}) == first
            with rpc_client(config) as cluster:
                service = getattr(cluster, "tickets")
                with pytest.raises(InvalidInput) as refused:
                    service.record_entry({"unit_id": "twelve", "title": ""})
                assert set(refused.value.errors) == {"unit_id", "title"}
                assert service.health()["status"] == "ok"
            assert len(spy.wait_for("entry_recorded")) == 1
    finally:
        spy.close()
        plugins.unregister("tickets")


def _record(service, payload):
    try:
        return service.record_entry(payload)
    except NotFound:
        return None
