"""Idempotent write RPCs (``shared.bus.requests``): a write RPC delivered again, by the broker or by
a client retrying with its idempotency key, writes once and answers the same; on PostgreSQL and
SQLite, with the members and stars services migrated by Alembic."""
import json
import time
import uuid
from datetime import date, timedelta

import pytest
from kombu import Connection, Exchange, Producer, Queue
from nameko.messaging import QueueConsumer
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from services.members.models import Activity
from services.members.service import MembersService
from services.stars import periods
from services.stars.service import StarsService
from shared import db, migrate
from shared.bus.requests import IDEMPOTENCY_KEY, REQUEST_IDENTITY, rpc_write
from shared.bus.rpc import idempotent, rpc_client
from shared.bus.store import Store, StoreHandle
from shared.errors import Conflict, InvalidInput
from tests.integration.test_members_service import county, person
from tests.support import broker
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration
DAY = (date.today() - timedelta(days=3)).isoformat()


@pytest.fixture
def members(amqp_uri, db_url_factory):
    url = db_url_factory()
    migrate.upgrade(MembersService, url)
    config = make_config(amqp_uri, {"members": url})
    with services_running(config, MembersService):
        with rpc_client(config) as cluster:
            _, _, village = county(cluster.members)
            member = cluster.members.register_member(person(village["id"]))
        yield config, db.database(url), member


def activity(member, hours="2.5"):
    return {"member_id": member["id"], "kind": "volunteer_service", "occurred_on": DAY,
            "hours": hours, "project": "暖心早餐"}


def activities(database):
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(Activity))


def stored_requests(database, consumer):
    table = MembersService.store.requests_table
    with database.reading() as session:
        return [row.request_key for row in session.execute(
            select(table.c.request_key).where(table.c.consumer == consumer))]


class RawRpc:
    """Sends nameko RPC request messages by hand (to publish the very same message twice) and
    collects the replies."""

    def __init__(self, amqp_uri):
        self.connection = Connection(amqp_uri, transport_options={
            "client_properties": {"connection_name": "raw-rpc-test"}})
        self.channel = self.connection.channel()
        self.exchange = Exchange("nameko-rpc", type="topic", durable=True)
        self.reply_to = f"raw-{uuid.uuid4().hex}"
        self.queue = Queue(self.reply_to, exchange=self.exchange, routing_key=self.reply_to,
                           exclusive=True, auto_delete=True).bind(self.channel)
        self.queue.declare()
        self.producer = Producer(self.channel)

    def send(self, method, args, correlation_id, headers=None):
        self.producer.publish({"args": args, "kwargs": {}}, exchange=self.exchange,
                              routing_key=f"members.{method}", serializer="json",
                              reply_to=self.reply_to, correlation_id=correlation_id,
                              headers=headers or {}, delivery_mode=2)

    def replies(self, count, timeout=20):
        found = []
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            message = self.queue.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            found.append((message.properties.get("correlation_id"), json.loads(message.body)))
        assert len(found) == count, f"{len(found)} replies of {count}"
        return found

    def close(self):
        self.connection.release()


def test_the_same_request_message_twice_writes_once_and_answers_the_same(members):
    config, database, member = members
    raw = RawRpc(config["AMQP_URI"])
    try:
        request_id = str(uuid.uuid4())
        raw.send("record_activity", [activity(member)], request_id)
        raw.send("record_activity", [activity(member)], request_id)
        (first_id, first), (second_id, second) = raw.replies(2)
    finally:
        raw.close()
    assert first_id == second_id == request_id
    assert first["error"] is None and first == second
    assert activities(database) == 1
    assert stored_requests(database, "members.record_activity") == [f"rpc:{request_id}"]


def test_a_request_redelivered_by_the_broker_writes_once(members, vhost, monkeypatch):
    """The broker drops the service's connections after the reply, before the ack: the request
    comes back (``redelivered``), with the same correlation id, and is answered from its stored
    reply."""
    config, database, member = members
    request_id = str(uuid.uuid4())
    deliveries = []
    ack = QueueConsumer.ack_message

    def lose_the_first_ack(self, message):
        if message.properties.get("correlation_id") == request_id:
            deliveries.append(message.delivery_info.get("redelivered"))
            if len(deliveries) == 1:
                return                  # the connection goes before this ack reaches the broker
        ack(self, message)

    monkeypatch.setattr(QueueConsumer, "ack_message", lose_the_first_ack)
    raw = RawRpc(config["AMQP_URI"])
    try:
        raw.send("record_activity", [activity(member)], request_id)
        [(_, first)] = raw.replies(1)
        assert first["error"] is None
        others = wait_for(lambda: [c["name"] for c in broker.connections(vhost)
                                   if (c.get("client_properties") or {}).get("connection_name")
                                   != "raw-rpc-test"], message="the service's connections")
        for name in others:
            broker.close_connection(name)
        [(_, second)] = raw.replies(1, timeout=60)
    finally:
        raw.close()
    assert deliveries == [False, True]
    assert second == first
    assert activities(database) == 1


def test_a_client_retrying_with_its_idempotency_key_writes_once(members):
    config, database, member = members
    with rpc_client(config) as cluster:
        first = idempotent(cluster.members, "k-1").record_activity(activity(member))
        again = idempotent(cluster.members, "k-1").record_activity(activity(member))
        other = idempotent(cluster.members, "k-2").record_activity(activity(member))
        plain = cluster.members.record_activity(activity(member))
        with pytest.raises(Conflict, match="k-1"):
            idempotent(cluster.members, "k-1").record_activity(activity(member, hours="3"))
        with pytest.raises(InvalidInput) as bad_key:
            idempotent(cluster.members, "x" * 201).record_activity(activity(member))
        assert IDEMPOTENCY_KEY in bad_key.value.errors
        assert cluster.members.get_member(member["id"])["id"] == member["id"]   # reads: as ever
    assert again == first and other["id"] != first["id"] and plain["id"] != first["id"]
    assert activities(database) == 3
    with rpc_client(config, idempotency_key="k-3") as cluster:
        once = cluster.members.record_activity(activity(member))
        assert cluster.members.record_activity(activity(member)) == once
    assert activities(database) == 4
    assert sorted(stored_requests(database, "members.record_activity"))[:3] == [
        "key:k-1", "key:k-2", "key:k-3"]


def test_concurrent_repeats_wait_for_the_first_and_write_once(members):
    config, database, member = members
    with rpc_client(config, idempotency_key="burst") as cluster:
        pending = [cluster.members.record_activity.call_async(activity(member)) for _ in range(5)]
        replies = [reply.result() for reply in pending]
    assert all(reply == replies[0] for reply in replies)
    assert activities(database) == 1


def test_a_refused_request_stores_nothing_and_its_corrected_retry_is_applied(members):
    config, database, member = members
    with rpc_client(config) as cluster:
        keyed = idempotent(cluster.members, "fix-me")
        with pytest.raises(InvalidInput) as refused:
            keyed.record_activity(activity(member, hours="-1"))
        assert "hours" in refused.value.errors
        assert stored_requests(database, "members.record_activity") == []
        corrected = keyed.record_activity(activity(member, hours="2"))
        assert keyed.record_activity(activity(member, hours="2")) == corrected
        with pytest.raises(Exception):
            keyed.revoke_activity(987654, "no such activity")      # NotFound: nothing stored
        assert keyed.revoke_activity(corrected["id"], "wrong member")["id"] == corrected["id"]
        assert keyed.revoke_activity(corrected["id"], "wrong member")["id"] == corrected["id"]
    assert activities(database) == 1
    assert stored_requests(database, "members.revoke_activity") == ["key:fix-me"]


def test_a_stars_closing_repeated_with_its_key_answers_the_same(amqp_uri, db_url_factory):
    url = db_url_factory()
    migrate.upgrade(StarsService, url)
    config = make_config(amqp_uri, {"stars": url})
    month = periods.month_key(date.today() - timedelta(days=40))
    with services_running(config, StarsService), rpc_client(config) as cluster:
        closing = idempotent(cluster.stars, "close-once")
        first = closing.close_month(month, closed_by="组织部", early=True)
        assert closing.close_month(month, closed_by="组织部", early=True) == first
        with pytest.raises(Conflict, match="already closed"):
            cluster.stars.close_month(month, early=True)



# -- the facility itself, without a broker ---------------------------------------------------------

facility_metadata = MetaData()
notes = Table("notes", facility_metadata, Column("id", Integer, primary_key=True),
              Column("text", String(50), nullable=False))
facility_store = Store(facility_metadata, relay=False)


class Notebook:
    """What a service method sees: ``self.store``, a worker's handle."""

    def __init__(self, database, **context):
        self.store = StoreHandle(database, facility_store.outbox_table,
                                 facility_store.inbox_table, "notebook", context,
                                 facility_store.requests_table)

    @rpc_write
    def write(self, text, fail=False):
        with self.store.transaction() as session:
            session.execute(notes.insert().values(text=text))
            if fail:
                raise InvalidInput({"text": ["refused after the insert"]})
        with self.store.transaction() as session:     # a second block joins the same commit
            return {"texts": sorted(session.scalars(select(notes.c.text)))}

    @rpc_write
    def write_and_swallow(self, text):
        try:
            with self.store.transaction() as session:
                session.execute(notes.insert().values(text=text))
                raise Conflict("the block failed")
        except Conflict:
            return {"swallowed": True}


def test_a_write_runs_once_per_key_in_one_transaction_with_its_reply(db_url_factory):
    database = db.database(db_url_factory())
    facility_metadata.create_all(database.engine)
    first = Notebook(database, **{REQUEST_IDENTITY: "m-1"}).write("a")
    assert Notebook(database, **{REQUEST_IDENTITY: "m-1"}).write("a") == first == {"texts": ["a"]}
    assert Notebook(database, **{REQUEST_IDENTITY: "m-2"}).write("b") == {"texts": ["a", "b"]}
    with pytest.raises(InvalidInput):
        Notebook(database, **{IDEMPOTENCY_KEY: "k"}).write("c", fail=True)
    assert Notebook(database, **{IDEMPOTENCY_KEY: "k"}).write("c") == {"texts": ["a", "b", "c"]}
    with pytest.raises(Conflict, match="the block failed"):
        Notebook(database, **{REQUEST_IDENTITY: "m-3"}).write_and_swallow("d")
    assert Notebook(database).write("e") == {"texts": ["a", "b", "c", "e"]}   # no key: runs
    with database.reading() as session:
        assert sorted(session.scalars(select(notes.c.text))) == ["a", "b", "c", "e"]
        table = facility_store.requests_table
        assert sorted(session.scalars(select(table.c.request_key))) == ["key:k", "rpc:m-1",
                                                                        "rpc:m-2"]
