"""The gateway's Open311 endpoint (``services.gateway.open311``) without a broker: which paths it
takes, the tickets RPC and plain arguments each request becomes (no caller in the context),
tickets' answers relayed as they are, and every failure in the spec's error-list shape."""
import json

import pytest
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from werkzeug.wrappers import Request

from services.gateway import open311
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

ROOT = "https://jiceng.example.cn/"
ERROR = {"code", "description"}


class FakeServices:
    """What ``dispatch.Gateway.services`` offers: ``call``, here recorded and answered with
    ``reply`` (raised when it is an exception)."""

    def __init__(self, reply=(200, [])):
        self.reply = reply
        self.calls = []

    def call(self, service, method, kwargs, context, timeout=None):
        self.calls.append((service, method, kwargs, context))
        if isinstance(self.reply, Exception):
            raise self.reply
        return list(self.reply)        # a tuple comes back from the broker as a list


def request(path, method="GET", query=None, form=None, headers=None):
    return Request.from_values(path=path, base_url=ROOT, method=method, query_string=query,
                               data=form, headers=headers)


def answered(services, req, status):
    response = open311.handle(services, req, "req-1")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Request-Id"] == "req-1"
    return json.loads(response.get_data(as_text=True)), response


def error_text(services, req, status):
    body, _ = answered(services, req, status)
    assert isinstance(body, list) and body
    assert all(set(e) == ERROR and e["code"] == status for e in body)
    return " | ".join(e["description"] for e in body)


def test_it_takes_the_discovery_document_and_every_path_under_v2_only():
    for path in ("/open311/discovery.json", "/open311/v2", "/open311/v2/services.json",
                 "/open311/v2/requests/12.json", "/open311/v2/anything"):
        assert open311.match(request(path)), path
    for path in ("/open311", "/open311/v1/services.json", "/open311/v2x", "/api/v1/tickets",
                 "/ticket-status"):
        assert not open311.match(request(path)), path


@pytest.mark.parametrize("req,rpc,kwargs", [
    (request("/open311/discovery.json"), "open311_discovery", {"host_url": ROOT}),
    (request("/open311/v2/services.json", query="jurisdiction_id=hh"), "open311_services",
     {"format": "json", "args": {"jurisdiction_id": "hh"}}),
    (request("/open311/v2/services/pension_check.json"), "open311_definition",
     {"service_code": "pension_check", "format": "json", "args": {}}),
    (request("/open311/v2/services.xml"), "open311_services", {"format": "xml", "args": {}}),
    (request("/open311/v2/requests.json", query="status=open&status=closed&service_code=a,b"),
     "open311_requests", {"format": "json", "args": {"status": "open", "service_code": "a,b"}}),
    (request("/open311/v2/requests/42.json"), "open311_request",
     {"service_request_id": "42", "format": "json", "args": {}}),
    (request("/open311/v2/requests.json", "POST", query="api_key=k",
             form={"service_code": "pension_check", "attribute[station]": "7",
                   "description": "行动不便\n请上门"}),
     "open311_create", {"format": "json", "args": {"api_key": "k"},
                        "form": {"service_code": "pension_check", "attribute[station]": "7",
                                 "description": "行动不便\n请上门"}}),
])
def test_each_request_is_one_tickets_rpc_with_plain_data_and_no_caller(req, rpc, kwargs):
    services = FakeServices((200, {"answered": rpc}))
    body, _ = answered(services, req, 200)
    assert body == {"answered": rpc}
    [(service, method, given, context)] = services.calls
    assert (service, method, given) == ("tickets", rpc, kwargs)
    assert context == {"correlation_id": "req-1"}          # the gateway asks as itself
    json.dumps(given)                                       # plain data only


def test_the_login_of_a_caller_is_never_passed_on():
    services = FakeServices()
    answered(services, request("/open311/v2/services.json",
                               headers={"Authorization": "Bearer someone's-token"}), 200)
    assert set(services.calls[0][3]) == {"correlation_id"}


def test_tickets_answers_are_relayed_with_their_status():
    reply = (404, [{"code": 404, "description": "service_code 'x' was not found"}])
    assert "was not found" in error_text(FakeServices(reply),
                                         request("/open311/v2/services/x.json"), 404)
    created = (200, [{"service_request_id": 9, "service_notice": "前辛庄村受理", "account_id": None}])
    body, _ = answered(FakeServices(created), request("/open311/v2/requests.json", "POST",
                                                      form={"service_code": "a"}), 200)
    assert body == created[1]


def test_paths_and_methods_it_does_not_serve_are_answered_without_a_call():
    services = FakeServices()
    assert "no Open311 endpoint" in error_text(services, request("/open311/v2/anything"), 404)
    assert "no Open311 endpoint" in error_text(services, request("/open311/v2/services"), 404)
    text = error_text(services, request("/open311/v2/services.json", "POST"), 405)
    assert "POST is not allowed" in text and "GET" in text
    _, response = answered(services, request("/open311/v2/requests/1.json", "DELETE"), 405)
    assert "GET" in response.headers["Allow"]
    assert services.calls == []


@pytest.mark.parametrize("refusal,status,expected", [
    (InvalidInput({"description": ["must not contain control characters (found U+0000)"],
                   "form": ["must be a mapping"]}), 400,
     "description: must not contain control characters (found U+0000) | form: must be a mapping"),
    (NotFound("service point 7 does not exist"), 404, "service point 7 does not exist"),
    (Conflict("service point 7 (前辛庄村) is closed"), 400, "service point 7 (前辛庄村) is closed"),
    (Forbidden("open311_create is not published over HTTP"), 403, "not published"),
])
def test_a_refusal_of_tickets_is_the_spec_error_list_naming_each_field(refusal, status, expected,
                                                                       caplog):
    text = error_text(FakeServices(refusal), request("/open311/v2/requests.json", "POST"), status)
    assert expected in text
    assert all(record.exc_info is None for record in caplog.records)


@pytest.mark.parametrize("outage", [RpcTimeout("tickets.open311_services gave no answer"),
                                    UnknownService("tickets")])
def test_a_tickets_outage_is_a_503_in_the_error_list_shape(outage, caplog):
    text = error_text(FakeServices(outage), request("/open311/v2/services.json"), 503)
    assert "tickets service is down or did not answer in time" in text
    _, response = answered(FakeServices(outage), request("/open311/v2/services.json"), 503)
    assert response.headers["Retry-After"] == "5"
    assert all(record.exc_info is None for record in caplog.records)


def test_a_fault_is_a_500_in_the_error_list_shape_without_internals():
    fault = RemoteError("OperationalError", "connection to server at 10.0.0.5 failed")
    text = error_text(FakeServices(fault), request("/open311/v2/services.json"), 500)
    assert "general service error" in text and "req-1" in text and "10.0.0.5" not in text
    malformed = FakeServices((200,))
    assert "general service error" in error_text(malformed, request("/open311/discovery.json"),
                                                 500)
