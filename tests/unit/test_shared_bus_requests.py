"""The pure parts of idempotent write RPCs: which key a request has, what counts as the same
arguments, what a service passes on to the RPCs it makes, and which methods are writes."""
import inspect
from types import SimpleNamespace

import pytest

from services.members.service import MembersService
from services.stars.service import StarsService
from shared.bus.requests import (IDEMPOTENCY_KEY, REQUEST_IDENTITY, REQUEST_SCOPED, WriteRpc,
                                 fingerprint, is_write, message_identity, request_key)
from shared.bus.rpc import _Context
from shared.errors import InvalidInput


def test_the_callers_key_wins_over_the_message_identity():
    assert request_key({IDEMPOTENCY_KEY: "abc", REQUEST_IDENTITY: "m-1"}) == "key:abc"
    assert request_key({REQUEST_IDENTITY: "m-1"}) == "rpc:m-1"
    assert request_key({}) is None


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201, 12, "a\x00b", "line\nbreak"])
def test_a_bad_idempotency_key_is_refused(bad):
    with pytest.raises(InvalidInput) as refused:
        request_key({IDEMPOTENCY_KEY: bad})
    assert IDEMPOTENCY_KEY in refused.value.errors


def test_a_message_is_known_by_its_correlation_id_then_its_message_id():
    message = lambda **properties: SimpleNamespace(properties=properties)  # noqa: E731
    assert message_identity(message(correlation_id="c", message_id="m")) == "c"
    assert message_identity(message(message_id="m")) == "m"
    assert message_identity(message()) is None


def test_the_same_arguments_however_passed_have_one_fingerprint():
    def method(self, payload, reason="corrected"):
        pass
    same = fingerprint(method, ({"a": 1, "b": 2},), {})
    assert fingerprint(method, (), {"payload": {"b": 2, "a": 1}}) == same
    assert fingerprint(method, ({"a": 1, "b": 2}, "corrected"), {}) == same
    assert fingerprint(method, ({"a": 1, "b": 3},), {}) != same
    assert fingerprint(method, ({"a": 1, "b": 2}, "other"), {}) != same


def test_request_scoped_context_is_not_passed_on_but_a_new_key_can_be():
    worker = SimpleNamespace(context_data={IDEMPOTENCY_KEY: "outer", REQUEST_IDENTITY: "abc",
                                           "permissions": ["x"]})
    assert _Context(worker, drop=REQUEST_SCOPED).context_data == {"permissions": ["x"]}
    assert _Context(worker, drop=REQUEST_SCOPED, add={IDEMPOTENCY_KEY: "inner"}).context_data \
        == {"permissions": ["x"], IDEMPOTENCY_KEY: "inner"}


def test_the_entrypoint_takes_the_identity_from_the_message_not_from_its_headers():
    entrypoint = WriteRpc()
    message = SimpleNamespace(properties={"correlation_id": "mine"},
                              headers={f"nameko.{REQUEST_IDENTITY}": "forged", "nameko.x": 1})
    assert entrypoint.unpack_message_headers(message) == {"x": 1, REQUEST_IDENTITY: "mine"}


WRITES = {
    MembersService: {"create_org_unit", "rename_org_unit", "move_org_unit", "dissolve_org_unit",
                     "register_member", "transfer_member", "member_leaves", "record_activity",
                     "import_activities", "import_members", "revoke_activity", "correct_activity", "create_team",
                     "create_project", "apply_for_membership", "record_development_step"},
    StarsService: {"close_month", "close_quarter", "close_year", "record_sanction", "rescore"},
}


@pytest.mark.parametrize("service", list(WRITES), ids=lambda cls: cls.name)
def test_every_rpc_that_writes_is_a_write_rpc(service):
    """A method that opens ``store.transaction()`` is declared ``@rpc_write``; reads are not."""
    writes = set()
    for name, method in inspect.getmembers(service, inspect.isfunction):
        source = inspect.getsource(inspect.unwrap(method))
        if is_write(method):
            writes.add(name)
        elif "@rpc" in inspect.getsource(method).split("def ", 1)[0]:
            assert "store.transaction()" not in source and "self._close(" not in source, name
    assert writes == WRITES[service]


def test_signatures_are_checked_against_the_method_as_written():
    entrypoint = WriteRpc()
    entrypoint.container = SimpleNamespace(service_cls=MembersService)
    entrypoint.method_name = "correct_activity"
    entrypoint.check_signature((1, {}), {})
    entrypoint.check_signature((1, {}), {"reason": "typo"})
    with pytest.raises(InvalidInput) as missing:
        entrypoint.check_signature((1,), {})
    assert missing.value.errors == {"payload": ["is required"]}
    with pytest.raises(InvalidInput) as unknown:
        entrypoint.check_signature((1, {}), {"why": "typo"})
    assert unknown.value.errors == {"why": ["is not an argument of this call"]}
