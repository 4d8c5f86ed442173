"""The Open311 GeoReport v2 interface over HTTP (nameko ``@http`` on a free port), on PostgreSQL
and SQLite: every method's JSON shape against the spec's examples, the standard filters,
jurisdiction_id and api_key as the spec says, and errors as ``[{"code", "description"}]``."""
import re

import pytest
import requests
from nameko.testing.utils import get_container, get_extension

from services.tickets.clock import Clock
from services.tickets.service import TicketsService
from services.tickets.web import TicketsWebServer
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
        container = get_container(runner, TicketsService)
        get_extension(container, Clock).set(at(2026, 10, 8, 10))
        host, port = get_extension(container, TicketsWebServer).address
        yield f"http://{host}:{port}/open311/v2", county, get_extension(container, Clock)


def errors_of(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert isinstance(body, list) and body and all(set(e) == ERROR for e in body)
    return " | ".join(e["description"] for e in body)


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
    base, county, _ = endpoint
    listed = requests.get(f"{base}/services.json")
    assert listed.status_code == 200 and listed.headers["Content-Type"].startswith("application/json")
    services = listed.json()
    assert [s["service_code"] for s in services] == ["certificate", "legal_aid", "minimum_living", "pension_check"]
    for service in services:
        assert set(service) == SERVICE
        assert service["metadata"] is True and service["type"] in ("realtime", "batch", "blackbox")
    assert requests.get(f"{base}/services.json", params={"jurisdiction_id": "huanghua.gov.cn"}).json() == services
    assert "not found" in errors_of(requests.get(f"{base}/services.json",
                                                 params={"jurisdiction_id": "sfgov.org"}), 404)
    assert "not supported" in errors_of(requests.get(f"{base}/services.xml"), 400)

    definition = requests.get(f"{base}/services/pension_check.json").json()
    assert set(definition) == DEFINITION and definition["service_code"] == "pension_check"
    station, documents = definition["attributes"]
    assert set(station) == ATTRIBUTE and set(documents) == ATTRIBUTE
    assert (station["code"], station["datatype"], station["required"], station["order"]) == \
        ("station", "singlevaluelist", True, 1)
    assert all(set(v) == VALUE for v in station["values"])
    assert {v["key"] for v in station["values"]} == {str(p["id"]) for p in (
        county.station, county.other_station, county.far_station)}
    assert documents["variable"] is False and "社保卡" in documents["description"]
    assert "was not found" in errors_of(requests.get(f"{base}/services/space_travel.json"), 404)

    discovery = requests.get(base.replace("/v2", "") + "/discovery.json").json()
    assert discovery["endpoints"][0]["formats"] == ["application/json"]
    assert discovery["endpoints"][0]["url"] == base


def test_post_a_request_needs_a_valid_api_key_and_answers_the_spec_shape(endpoint):
    base, county, _ = endpoint
    missing = requests.post(f"{base}/requests.json", data=example_post(county, api_key=None))
    assert "api_key was not provided" in errors_of(missing, 403)
    wrong = requests.post(f"{base}/requests.json", data=example_post(county, api_key="guess"))
    assert "Invalid api_key" in errors_of(wrong, 403)
    assert "not found" in errors_of(requests.post(
        f"{base}/requests.json", data=example_post(county, jurisdiction_id="sfgov.org")), 404)
    assert "service_code was not provided" in errors_of(requests.post(
        f"{base}/requests.json", data=example_post(county, service_code=None)), 400)
    assert "was not found" in errors_of(requests.post(
        f"{base}/requests.json", data=example_post(county, service_code="space_travel")), 404)
    assert "location is required" in errors_of(requests.post(f"{base}/requests.json", data=example_post(
        county, lat=None, long=None, address_string=None)), 400)
    assert "attribute[station]" in errors_of(requests.post(
        f"{base}/requests.json", data=example_post(county, **{"attribute[station]": None})), 400)
    assert "lat" in errors_of(requests.post(f"{base}/requests.json", data=example_post(county, lat="91")), 400)
    assert "description" in errors_of(requests.post(
        f"{base}/requests.json", data=example_post(county, description="bad\x00text")), 400)
    assert "is not a service station" in errors_of(requests.post(f"{base}/requests.json", data=example_post(
        county, **{"attribute[station]": str(county.centre["id"])})), 400)

    created = requests.post(f"{base}/requests.json", data=example_post(county))
    assert created.status_code == 200, created.text
    [reply] = created.json()
    assert set(reply) == CREATED and reply["account_id"] == "123456"
    assert "2026-10-12" in reply["service_notice"] and "社保卡" in reply["service_notice"]
    ticket = county.detail({"id": reply["service_request_id"]})
    assert (ticket["channel"], ticket["requester_name"], ticket["level"]) == ("open311", "刘大爷", "village")
    assert ticket["history"][0]["by"] == "open311:city-hotline" and ticket["lat"] == 38.371234


def test_get_requests_with_the_standard_filters_and_one_request(endpoint):
    base, county, clock = endpoint
    first = requests.post(f"{base}/requests.json", data=example_post(county)).json()[0]["service_request_id"]
    clock.set(at(2026, 10, 9, 10))
    second = requests.post(f"{base}/requests.json", data=example_post(
        county, service_code="minimum_living", lat=None, long=None)).json()[0]["service_request_id"]
    county.act({"id": first}, "accept", at(2026, 10, 9, 11))
    county.act({"id": first}, "resolve", at(2026, 10, 9, 12), outcome="已上门认证")

    everything = requests.get(f"{base}/requests.json").json()
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

    def ids(**params):
        response = requests.get(f"{base}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert ids(status="open") == [second] and ids(status="closed") == [first]
    assert ids(status="open,closed") == [second, first]
    assert ids(service_code="pension_check") == [first]
    assert ids(service_code="pension_check,minimum_living") == [second, first]
    assert ids(start_date="2026-10-09T00:00:00+08:00", end_date="2026-10-10T00:00:00Z") == [second]
    assert ids(end_date="2026-10-08T23:00:00+08:00") == [first]
    assert ids(start_date="2026-10-10T00:00:00+08:00") == []
    assert ids(service_request_id=f"{first}", status="open") == [first]      # overrides the rest
    assert ids(service_request_id=f"{first},{second}") == [second, first]
    assert "90 days" in errors_of(requests.get(f"{base}/requests.json", params={
        "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-10-01T00:00:00Z"}), 400)
    assert "w3 datetime" in errors_of(requests.get(f"{base}/requests.json",
                                                   params={"start_date": "yesterday"}), 400)
    assert "open or closed" in errors_of(requests.get(f"{base}/requests.json", params={"status": "lost"}), 400)
    assert "not a request id" in errors_of(requests.get(
        f"{base}/requests.json", params={"service_request_id": "1;drop"}), 400)

    one = requests.get(f"{base}/requests/{first}.json")
    assert one.status_code == 200 and one.json() == [closed]
    assert "was not found" in errors_of(requests.get(f"{base}/requests/987654.json"), 404)
    assert "was not found" in errors_of(requests.get(f"{base}/requests/abc.json"), 404)
    assert "not found" in errors_of(requests.get(f"{base}/requests/{first}.json",
                                                 params={"jurisdiction_id": "sfgov.org"}), 404)
