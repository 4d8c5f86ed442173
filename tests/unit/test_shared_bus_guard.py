"""The services' own permission check on calls that come through the gateway."""
from shared.api import Route
from shared.bus import guard


class Service:
    api = (Route("GET", "/things/<int:thing_id>", "get_thing", "One", permission="things.read"),
           Route("POST", "/things", "add_thing", "Add", permission="things.write"),
           Route("PUT", "/things/<int:thing_id>", "add_thing", "Replace",
                 permission="things.admin"),
           Route("GET", "/board", "board", "Public", permission=None))


def gateway_call(*permissions):
    return {"role": "r", "user": "u", "permissions": list(permissions)}


def test_calls_from_inside_are_not_checked():
    assert guard.refusal(Service, "add_thing", {}) is None
    assert guard.refusal(Service, "internal_only", {"correlation_id": "x"}) is None


def test_a_gateway_call_needs_one_of_the_permissions_of_the_rpcs_routes():
    assert guard.refusal(Service, "get_thing", gateway_call("things.read")) is None
    assert guard.refusal(Service, "add_thing", gateway_call("things.admin")) is None
    refused = guard.refusal(Service, "add_thing", gateway_call("things.read"))
    assert "things.admin or things.write" in refused
    assert guard.refusal(Service, "board", gateway_call()) is None
    assert guard.refusal(Service, "health", gateway_call()) is None


def test_rpcs_not_published_over_http_are_refused_to_the_gateway():
    assert "not published over HTTP" in guard.refusal(Service, "internal_only", gateway_call())


def test_arguments_that_do_not_fit_name_each_argument():
    from shared.bus.refusals import signature_problems

    def method(self, member_id, period, limit=10):
        pass

    assert signature_problems(method, (1,), {"period": "2026-11"}) == {}
    assert signature_problems(method, (), {"period": "x"}) == {"member_id": ["is required"]}
    assert signature_problems(method, (1, "p"), {"colour": 1}) == {
        "colour": ["is not an argument of this call"]}
    assert signature_problems(method, (1,), {"member_id": 2, "period": "p"}) == {
        "member_id": ["given twice"]}
    assert "_args" in signature_problems(method, (1, 2, 3, 4), {})
