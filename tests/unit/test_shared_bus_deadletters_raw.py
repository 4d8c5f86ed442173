"""A dead letter's body as the bytes that were sent, for ``jiceng dlq show`` and ``replay``.

py-amqp hands over an EMPTY body as the text ``''`` whatever its ``content_encoding``; kombu
publishes bytes as ``binary``, which is no Python codec. Found by ``make chaos`` (an empty
message among good ones): encoding ``''`` with ``binary`` raised ``LookupError``."""
from types import SimpleNamespace

from shared.bus import deadletters


def message(body, encoding):
    return SimpleNamespace(body=body, content_encoding=encoding)


def test_an_empty_binary_body_is_empty_bytes():
    assert deadletters._raw(message("", "binary")) == b""


def test_bodies_keep_their_bytes():
    assert deadletters._raw(message(b"\xff\xfe", "binary")) == b"\xff\xfe"
    assert deadletters._raw(message("día", "utf-8")) == "día".encode("utf-8")
    assert deadletters._raw(message("día", None)) == "día".encode("utf-8")
    assert deadletters._raw(message(None, "binary")) == b""
