"""The Open311 GeoReport v2 RPCs the gateway's ``/open311`` endpoint calls, over the real
RabbitMQ, on PostgreSQL and SQLite: every method's JSON shape against the spec's examples, the
standard filters, jurisdiction_id and api_key as the spec says, errors as ``[status,
[{"code", "description"}]]``, plain-data refusals naming the parameter, and no caller from the
gateway (the RPCs are not published in ``api``)."""
import re

import pytest
from nameko.testing.utils import get_container, get_extension
from sqlalchemy import func, select

from services.tickets.clock import Clock
from services.tickets.models import ServicePoint, Ticket
from services.tickets.service import TicketsService
from shared.bus.rpc import rpc_client
from shared.errors import Conflict, Forbidden, InvalidInput
from tests.support.fixtures import make_config
from tests.support.running import services_running
from tickets_county import at, build

pytestmark = pytest.mark.integration

# Field names of the spec's JSON examples (wiki.open311.org/GeoReport_v2), per method.
SERVICE = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
DEFINITION = {"service_code", "attributes"}
ATTRIBUTE = {"variable", "code", "datatype", "required", "datatype_description", "order",
             "description", "values"}
VALUE = {"key", "name"}
CREATED = {"service_request_id", "service_notice", "account_id"}
REQUEST = {"service_request_id", "status", "status_notes", "service_name", "service_code",
           "description", "agency_responsible", "service_notice", "requested_datetime",
           "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
           "long", "media_url"}
ERROR = {"code", "description"}
W3 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
KEY = "secret-key-of-the-city"


@pytest.fixture
def endpoint(amqp_uri, db_url_factory):
    url = db_url_factory()
    county = build(url)
    config = make_config(amqp_uri, {"tickets": url})
    config["services"]["tickets"]["open311_api_keys"] = f"city-hotline:{KEY}, other:another-key"
    with services_running(config, TicketsService) as runner:
        clock = get_extension(get_container(runner, TicketsService), Clock)
        clock.set(at(2026, 10, 8, 10))
        with rpc_client(config) as cluster:
            yield cluster.tickets, county, clock, config


def answer(reply, status=200):
    """The body of an RPC's ``[status, body]`` reply, which must have ``status``."""
    assert reply[0] == status, reply
    return reply[1]


def errors_of(reply, status):
    body = answer(reply, status)
    assert isinstance(body, list) and body and all(set(e) == ERROR for e in body)
    assert all(e["code"] == status for e in body)
    return " | ".join(e["description"] for e in body)


def post(tickets, form, **args):
    return tickets.open311_create(form=form, args=args, format="json")


def requests_(tickets, **args):
    return tickets.open311_requests(args=args, format="json")


def example_post(county, **changes):
    """The spec's example POST, with this county's service and station."""
    form = {"api_key": KEY, "jurisdiction_id": "huanghua.gov.cn", "service_code": "pension_check",
            "lat": "38.371234", "long": "117.330567", "address_string": "旧城镇前辛庄村东街 12 号",
            "email": "liu@example.cn", "device_id": "tt222111", "account_id": "123456",
            "first_name": "大爷", "last_name": "刘", "phone": "13812345678",
            "description": "老人行动不便，请上门做养老保险资格认证",
            "media_url": "http://example.cn/photo.jpg", "attribute[station]": str(county.station["id"])}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_services_list_and_definition(endpoint):
    tickets, county, _, _ = endpoint
    services = answer(tickets.open311_services(args={}, format="json"))
    assert [s["service_code"] for s in services] == ["certificate", "legal_aid", "minimum_living", "pension_check"]
    for service in services:
        assert set(service) == SERVICE
        assert service["metadata"] is True and service["type"] in ("realtime", "batch", "blackbox")
    assert answer(tickets.open311_services(args={"jurisdiction_id": "huanghua.gov.cn"})) == services
    assert "not found" in errors_of(tickets.open311_services(args={"jurisdiction_id": "sfgov.org"}), 404)
    assert "not supported" in errors_of(tickets.open311_services(args={}, format="xml"), 400)

    definition = answer(tickets.open311_definition(service_code="pension_check", args={}, format="json"))
    assert set(definition) == DEFINITION and definition["service_code"] == "pension_check"
    station, documents = definition["attributes"]
    assert set(station) == ATTRIBUTE and set(documents) == ATTRIBUTE
    assert (station["code"], station["datatype"], station["required"], station["order"]) == \
        ("station", "singlevaluelist", True, 1)
    assert all(set(v) == VALUE for v in station["values"])
    assert {v["key"] for v in station["values"]} == {str(p["id"]) for p in (
        county.station, county.other_station, county.far_station)}
    assert documents["variable"] is False and "社保卡" in documents["description"]
    assert "was not found" in errors_of(tickets.open311_definition(service_code="space_travel"), 404)

    discovery = answer(tickets.open311_discovery(host_url="https://jiceng.example.cn/"))
    assert discovery["endpoints"][0]["formats"] == ["application/json"]
    assert discovery["endpoints"][0]["url"] == "https://jiceng.example.cn/open311/v2"


def test_post_a_request_needs_a_valid_api_key_and_answers_the_spec_shape(endpoint):
    tickets, county, _, _ = endpoint
    assert "api_key was not provided" in errors_of(post(tickets, example_post(county, api_key=None)), 403)
    assert "Invalid api_key" in errors_of(post(tickets, example_post(county, api_key="guess")), 403)
    assert "not found" in errors_of(post(tickets, example_post(county, jurisdiction_id="sfgov.org")), 404)
    assert "service_code was not provided" in errors_of(
        post(tickets, example_post(county, service_code=None)), 400)
    assert "was not found" in errors_of(post(tickets, example_post(county, service_code="space_travel")), 404)
    assert "location is required" in errors_of(post(tickets, example_post(
        county, lat=None, long=None, address_string=None)), 400)
    assert "attribute[station]" in errors_of(
        post(tickets, example_post(county, **{"attribute[station]": None})), 400)
    assert "lat" in errors_of(post(tickets, example_post(county, lat="91")), 400)
    assert "is not a service station" in errors_of(post(tickets, example_post(
        county, **{"attribute[station]": str(county.centre["id"])})), 400)
    keyed = example_post(county, api_key=None)
    assert answer(post(tickets, keyed, api_key=KEY))[0]["service_request_id"]   # key in the query

    reply = answer(post(tickets, example_post(county)))
    [created] = reply
    assert set(created) == CREATED and created["account_id"] == "123456"
    assert "2026-10-12" in created["service_notice"] and "社保卡" in created["service_notice"]
    ticket = county.detail({"id": created["service_request_id"]})
    assert (ticket["channel"], ticket["requester_name"], ticket["level"]) == ("open311", "刘大爷", "village")
    assert ticket["history"][0]["by"] == "open311:city-hotline" and ticket["lat"] == 38.371234


def test_get_requests_with_the_standard_filters_and_one_request(endpoint):
    tickets, county, clock, _ = endpoint
    first = answer(post(tickets, example_post(county)))[0]["service_request_id"]
    clock.set(at(2026, 10, 9, 10))
    second = answer(post(tickets, example_post(
        county, service_code="minimum_living", lat=None, long=None)))[0]["service_request_id"]
    county.act({"id": first}, "accept", at(2026, 10, 9, 11))
    county.act({"id": first}, "resolve", at(2026, 10, 9, 12), outcome="已上门认证")

    everything = answer(requests_(tickets))
    assert [r["service_request_id"] for r in everything] == [second, first]
    for entry in everything:
        assert set(entry) == REQUEST
        assert W3.match(entry["requested_datetime"]) and W3.match(entry["updated_datetime"])
    closed, opened = everything[1], everything[0]
    assert (closed["status"], closed["status_notes"], closed["expected_datetime"]) == ("closed", "已上门认证", None)
    assert closed["requested_datetime"] == "2026-10-08T10:00:00+08:00"
    assert (opened["status"], opened["agency_responsible"]) == ("open", "旧城镇党委")
    assert opened["expected_datetime"] == "2026-11-05T23:59:59+08:00"     # 20 working days
    assert opened["lat"] is None and closed["lat"] == 38.371234

    def ids(**args):
        return [r["service_request_id"] for r in answer(requests_(tickets, **args))]

    assert ids(status="open") == [second] and ids(status="closed") == [first]
    assert ids(status="open,closed") == [second, first]
    assert ids(service_code="pension_check") == [first]
    assert ids(service_code="pension_check,minimum_living") == [second, first]
    assert ids(start_date="2026-10-09T00:00:00+08:00", end_date="2026-10-10T00:00:00Z") == [second]
    assert ids(end_date="2026-10-08T23:00:00+08:00") == [first]
    assert ids(start_date="2026-10-10T00:00:00+08:00") == []
    assert ids(service_request_id=f"{first}", status="open") == [first]      # overrides the rest
    assert ids(service_request_id=f"{first},{second}") == [second, first]
    assert "90 days" in errors_of(requests_(tickets, start_date="2026-01-01T00:00:00Z",
                                            end_date="2026-10-01T00:00:00Z"), 400)
    assert "w3 datetime" in errors_of(requests_(tickets, start_date="yesterday"), 400)
    assert "from 1970 to 2999" in errors_of(requests_(tickets, start_date="9999-12-31T00:00:00Z"), 400)
    assert "from 1970 to 2999" in errors_of(requests_(tickets, end_date="0001-01-01T00:00:00+08:00"), 400)
    assert "open or closed" in errors_of(requests_(tickets, status="lost"), 400)
    assert "not a request id" in errors_of(requests_(tickets, service_request_id="1;drop"), 400)
    assert "not a request id" in errors_of(requests_(tickets, service_request_id="½"), 400)

    assert answer(tickets.open311_request(service_request_id=str(first), args={})) == [closed]
    assert answer(tickets.open311_request(
        service_request_id=str(first).translate(FULL_WIDTH))) == [closed]
    assert "was not found" in errors_of(tickets.open311_request(service_request_id="987654"), 404)
    assert "was not found" in errors_of(tickets.open311_request(service_request_id="abc"), 404)
    assert "not found" in errors_of(tickets.open311_request(
        service_request_id=str(first), args={"jurisdiction_id": "sfgov.org"}), 404)


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def count_tickets(county):
    with county.store.reading() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_what_no_http_request_carries_is_refused_naming_the_parameter_and_stores_nothing(endpoint):
    tickets, county, _, _ = endpoint
    before = count_tickets(county)
    cases = [
        (lambda: post(tickets, example_post(county, description="bad\x00text")), "description"),
        (lambda: post(tickets, "service_code=x"), "form"),
        (lambda: post(tickets, {**example_post(county), "station\x01": "1"}), "station\x01"),
        (lambda: post(tickets, example_post(county, description=7)), "description"),
        (lambda: post(tickets, example_post(county, description="长" * 10_001)), "description"),
        (lambda: tickets.open311_services(args=["status"]), "args"),
        (lambda: tickets.open311_services(args={}, format=None), "format"),
        (lambda: tickets.open311_request(service_request_id="1\x00"), "service_request_id"),
        (lambda: tickets.open311_definition(service_code=12), "service_code"),
    ]
    for call, field in cases:
        with pytest.raises(InvalidInput) as refused:
            call()
        assert field in refused.value.errors, (field, refused.value.errors)
    assert count_tickets(county) == before
    assert "description: must be at most 4000" in errors_of(
        post(tickets, example_post(county, description="长" * 4001)), 400)


def test_the_open311_rpcs_are_refused_to_a_caller_from_the_gateway(endpoint):
    tickets, county, _, config = endpoint
    cadre = {"user": "cadre", "role": "village_cadre", "scope_unit_id": 12,
             "permissions": ["*.read", "tickets.write"]}
    with rpc_client(config, context_data=cadre) as cluster:
        with pytest.raises(Forbidden, match="not published over HTTP"):
            cluster.tickets.open311_services(args={})
        with pytest.raises(Forbidden, match="not published over HTTP"):
            cluster.tickets.open311_create(form=example_post(county))
    assert count_tickets(county) == 0


def test_a_refusal_while_the_ticket_is_written_is_raised_and_stores_nothing(endpoint):
    tickets, county, _, _ = endpoint
    with county.tx() as session:
        session.get(ServicePoint, county.station["id"]).active = False
    with pytest.raises(Conflict, match="is closed"):
        post(tickets, example_post(county))
    assert count_tickets(county) == 0
