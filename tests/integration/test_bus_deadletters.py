"""Nothing dropped: every message ``@subscribe`` cannot read goes to its queue's dead-letter queue
with the reason, and ``jiceng dlq`` shows, replays and purges dead letters (real RabbitMQ, a vhost
per test)."""
import base64
import json
import pickle
import time

import pytest
import yaml
from kombu import Connection, Producer

from shared import cli, db
from shared.bus import deadletters, topology
from shared.bus.publisher import ConfirmingPublisher
from shared.bus.rpc import rpc_client
from shared.bus.store import declare_all
from shared.contracts.envelope import PARTITION_HEADER, Envelope, partition_key
from tests.support import broker, bus_app
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration
TALLY_QUEUE = topology.consumer_queue_name("probe", "probe_sent", "tally", "on_probe")
DLQ = topology.dead_letter_queue_name(TALLY_QUEUE)


@pytest.fixture
def bus(amqp_uri, sqlite_url_factory, tmp_path):
    bus_app.register()
    urls = {"probe": sqlite_url_factory(), "tally": sqlite_url_factory()}
    bus_app.probe_metadata.create_all(db.database(urls["probe"]).engine)
    bus_app.tally_metadata.create_all(db.database(urls["tally"]).engine)
    config = make_config(amqp_uri, urls)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    config["path"] = str(path)
    declare_all(config)
    yield config
    bus_app.unregister()


def tally(config):
    with db.database(config["services"]["tally"]["database_url"]).reading() as session:
        return bus_app.tally_counts(session)


def depth(config, queue):
    return broker.queue_depth(config["AMQP_URI"], queue)


def jiceng(config, *args):
    return cli.main(["dlq", *args, "--config", config["path"]])


def publish(config, body: bytes, message_id, content_type="application/json",
            content_encoding="utf-8", headers=None):
    with Connection(config["AMQP_URI"]) as connection:
        Producer(connection.channel()).publish(
            body, exchange="probe.events", routing_key="probe_sent", content_type=content_type,
            content_encoding=content_encoding, message_id=message_id, headers=headers or {},
            delivery_mode=2)


def publish_event(config, envelope, headers=None):
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    try:
        assert publisher.publish(exchange="probe.events", routing_key="probe_sent",
                                 body=envelope.to_wire(), message_id=envelope.id,
                                 headers={PARTITION_HEADER: partition_key(envelope),
                                          **(headers or {})})
    finally:
        publisher.close()


def good(seq):
    return Envelope(type="probe_sent", source="probe", data={"seq": seq, "fail_times": 0})


UNREADABLE = [  # message id, body, content type, encoding, what the error says
    ("not-utf8", b"\xff\xfe{", "application/json", "utf-8", "not UTF-8 JSON"),
    ("not-json", b"{\"id\": ", "application/json", "utf-8", "not UTF-8 JSON"),
    ("text", "合计 12".encode("utf-8"), "text/plain", "utf-8", "'text/plain' is not application/json"),
    ("pickle", pickle.dumps({"id": "x"}), "application/x-python-serialize", "binary",
     "'application/x-python-serialize' is not application/json"),
    ("no-type", b'{"id": "x"}', None, None, "must be a JSON object"),
    ("no-envelope", b'{"hello": "world"}', "application/json", "utf-8", "missing from the envelope"),
    ("a-list", b'[1, 2]', "application/json", "utf-8", "must be a JSON object"),
    ("wrong-types", json.dumps({**good(0).to_wire(), "id": 7, "data": "x"}).encode(),
     "application/json", "utf-8", "id: must be a string"),
    ("unknown-type", json.dumps({**good(0).to_wire(), "type": "probe_unknown"}).encode(),
     "application/json", "utf-8", "no contract registered"),
]


def test_unreadable_messages_are_dead_lettered_with_the_reason_and_the_rest_flows(bus):
    publish_event(bus, good(1))
    for message_id, body, content_type, encoding, _ in UNREADABLE:
        publish(bus, body, message_id, content_type, encoding, headers={"x-origin": "test"})
    publish_event(bus, good(2))
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: depth(bus, DLQ) == len(UNREADABLE), message="every unreadable one")
        wait_for(lambda: tally(bus)["rows"] == 2, message="the good ones")
        publish_event(bus, good(3))       # the consumer still consumes
        wait_for(lambda: tally(bus)["rows"] == 3, message="one more after them")
    assert depth(bus, TALLY_QUEUE) == 0
    letters = {}
    for position in range(1, len(UNREADABLE) + 1):
        letter = deadletters.show(bus["AMQP_URI"], TALLY_QUEUE, position)
        letters[letter["message_id"]] = letter
    for message_id, body, content_type, _, reason in UNREADABLE:
        letter = letters[message_id]
        assert reason in letter["error"], (message_id, letter["error"])
        assert letter["attempt"] == 1 and letter["headers"]["x-origin"] == "test"
        assert letter["body_bytes"] == len(body)
        if isinstance(letter["body"], dict) and "base64" in letter["body"]:
            assert base64.b64decode(letter["body"]["base64"]) == body
    assert letters["no-envelope"]["body"] == {"hello": "world"}
    assert letters["text"]["body"] == "合计 12"
    assert depth(bus, DLQ) == len(UNREADABLE)          # show kept them


def test_dlq_show_prints_one_dead_letter_in_full(bus, capsys):
    with services_running(bus, bus_app.ProbeService, bus_app.TallyService):
        with rpc_client(bus) as cluster:
            cluster.probe.emit(2, fail_times=3)
        wait_for(lambda: depth(bus, DLQ) == 2, message="two dead letters")
    capsys.readouterr()
    assert jiceng(bus, "show", TALLY_QUEUE) == 0
    out = capsys.readouterr().out
    assert f"queue:      {DLQ} (dead letter 1)" in out
    assert "error:      RuntimeError: planned failure 3 of 3" in out
    assert "Traceback (most recent call last)" in out and "raise RuntimeError" in out
    assert f"{PARTITION_HEADER}:" in out and "x-jiceng-attempt: 3" in out
    assert '"seq": 0' in out
    assert jiceng(bus, "show", TALLY_QUEUE, "2", "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["position"] == 2 and second["body"]["data"]["seq"] == 1
    assert second["traceback"].startswith("Traceback") and second["attempt"] == 3
    assert second["message_id"] == second["body"]["id"]
    assert jiceng(bus, "show", TALLY_QUEUE, "3") == 1
    assert "no dead letter number 3" in capsys.readouterr().err
    assert depth(bus, DLQ) == 2


def test_dlq_replay_all_keeps_the_headers_and_event_id_and_the_event_is_handled(bus, capsys):
    events = [Envelope(type="probe_sent", source="probe", data={"seq": seq, "fail_times": 3})
              for seq in range(3)]
    for envelope in events:
        publish_event(bus, envelope, headers={"x-trace": f"t-{envelope.data['seq']}"})
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: depth(bus, DLQ) == 3, message="three dead letters")
    assert jiceng(bus, "replay", TALLY_QUEUE) == 2          # --all or --limit, never a guess
    assert jiceng(bus, "replay", TALLY_QUEUE, "--all") == 0
    assert f"replayed 3 message(s) from {DLQ} into {TALLY_QUEUE}" in capsys.readouterr().out
    assert depth(bus, DLQ) == 0
    with Connection(bus["AMQP_URI"]) as connection:
        channel = connection.channel()
        replayed = {}
        for _ in range(3):
            message = channel.basic_get(TALLY_QUEUE, no_ack=False)
            replayed[message.properties["message_id"]] = message
        for message in replayed.values():
            channel.basic_reject(message.delivery_tag, requeue=True)
    for envelope in events:
        message = replayed[envelope.id]
        headers = message.properties["application_headers"]
        assert json.loads(message.body)["id"] == envelope.id
        assert json.loads(message.body) == json.loads(json.dumps(envelope.to_wire()))
        assert headers["x-trace"] == f"t-{envelope.data['seq']}"
        assert headers[PARTITION_HEADER] == partition_key(envelope)
        assert headers["x-jiceng-replayed"] == 1
        assert not any(key in headers for key in ("x-jiceng-error", "x-jiceng-attempt",
                                                   "x-jiceng-traceback"))
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: tally(bus)["rows"] == 3, message="replayed and handled")
        time.sleep(0.3)
    assert tally(bus) == {"rows": 3, "distinct": 3} and depth(bus, DLQ) == 0


def test_dlq_replay_of_an_undecodable_message_sends_the_same_bytes(bus):
    publish(bus, b"\xff\xfe{", "raw-1", headers={"x-origin": "test"})
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: depth(bus, DLQ) == 1, message="the dead letter")
    assert deadletters.replay(bus["AMQP_URI"], TALLY_QUEUE, limit=1) == 1
    with Connection(bus["AMQP_URI"]) as connection:
        channel = connection.channel()
        message = channel.basic_get(TALLY_QUEUE, no_ack=True)
    body = message.body if isinstance(message.body, bytes) else message.body.encode()
    assert body == b"\xff\xfe{" and message.properties["message_id"] == "raw-1"
    assert message.properties["content_type"] == "application/json"
    assert message.properties["application_headers"]["x-origin"] == "test"


def test_dlq_purge_asks_first_and_yes_skips_the_question(bus, capsys, monkeypatch):
    for seq in range(2):
        publish(bus, b"not json", f"bad-{seq}")
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: depth(bus, DLQ) == 2, message="two dead letters")
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "no")
    assert jiceng(bus, "purge", TALLY_QUEUE) == 1
    assert "Delete 2 dead letter(s) for good" in asked[0] and "nothing purged" in capsys.readouterr().out
    assert depth(bus, DLQ) == 2
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert jiceng(bus, "purge", TALLY_QUEUE) == 0
    assert f"purged 2 message(s) from {DLQ}" in capsys.readouterr().out
    assert depth(bus, DLQ) == 0
    publish(bus, b"still not json", "bad-3")
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: depth(bus, DLQ) == 1, message="one more")

    def no_questions(prompt):
        raise AssertionError("--yes must not ask")
    monkeypatch.setattr("builtins.input", no_questions)
    assert jiceng(bus, "purge", TALLY_QUEUE, "--yes") == 0
    assert depth(bus, DLQ) == 0 and depth(bus, TALLY_QUEUE) == 0
    assert jiceng(bus, "purge", TALLY_QUEUE, "--yes") == 0
    assert "no dead letters" in capsys.readouterr().out
