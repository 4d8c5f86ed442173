"""Webhook signatures: what notify sends and what a receiver accepts."""
import hashlib
import hmac
import re
import time

import pytest

from services.notify import signing
from shared.config import ROOT

BODY = '{"id":"e-1","type":"ticket_resolved","data":{"ticket_id":7}}'.encode()


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signing.signature("s3cret", 1700000000, BODY) == f"sha256={expected}"


def test_headers_carry_timestamp_signature_event_id_type_and_delivery():
    headers = signing.headers("s3cret", 1700000000, BODY, "e-1", "tickets.ticket_resolved", 41)
    assert headers[signing.TIMESTAMP] == "1700000000"
    assert headers[signing.SIGNATURE] == signing.signature("s3cret", 1700000000, BODY)
    assert headers[signing.EVENT_ID] == "e-1"
    assert headers[signing.EVENT_TYPE] == "tickets.ticket_resolved"
    assert headers[signing.DELIVERY_ID] == "41"
    assert headers["Content-Type"].startswith("application/json")


def test_a_genuine_fresh_delivery_verifies():
    signed = signing.signature("s3cret", 1700000000, BODY)
    signing.verify("s3cret", BODY, "1700000000", signed, now=1700000100)


@pytest.mark.parametrize("secret,body,timestamp,now,reason", [
    ("other", BODY, "1700000000", 1700000000, "does not match"),
    ("s3cret", BODY + b" ", "1700000000", 1700000000, "does not match"),
    ("s3cret", BODY, "1700000001", 1700000001, "does not match"),      # timestamp swapped
    ("s3cret", BODY, "1700000000", 1700000301, "away from now"),       # too old
    ("s3cret", BODY, "1700000000", 1699999600, "away from now"),       # from the future
    ("s3cret", BODY, "soon", 1700000000, "whole number"),
])
def test_forged_altered_or_old_deliveries_are_refused(secret, body, timestamp, now, reason):
    signed = signing.signature("s3cret", 1700000000, BODY)
    with pytest.raises(signing.BadSignature, match=reason):
        signing.verify(secret, body, timestamp, signed, now=now)


def test_missing_headers_are_refused():
    with pytest.raises(signing.BadSignature, match="missing"):
        signing.verify("s3cret", BODY, None, "sha256=00", now=0)


def test_secrets_are_long_and_never_repeat():
    secrets = {signing.new_secret() for _ in range(50)}
    assert len(secrets) == 50 and all(len(s) >= 40 for s in secrets)


def test_the_readme_snippet_verifies_what_notify_signs_and_refuses_the_rest():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Notify service", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(snippet, namespace)
    verify = namespace["verify"]
    headers = signing.headers("s3cret", int(time.time()), BODY, "e-1", "tickets.ticket_resolved", 1)
    verify("s3cret", BODY, headers)
    with pytest.raises(ValueError, match="bad signature"):
        verify("s3cret", BODY + b"x", headers)
    old = signing.headers("s3cret", int(time.time()) - 600, BODY, "e-1", "x.y_z", 1)
    with pytest.raises(ValueError, match="stale"):
        verify("s3cret", BODY, old)
