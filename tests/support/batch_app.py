"""Two tiny services for ``@subscribe_batch``: ``pulse`` publishes, ``counter`` counts in batches.

``counter`` stores one row per handled event (with the process id and the partition it came
from) in a table with NO uniqueness, so a double count would show; and one row per successful
batch with its size. ``counter.partitions`` in the config sets the number of partitions. Run as
a script it serves them in a separate process (for the kill tests)::

    python -m tests.support.batch_app serve counter --config cfg.yaml
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

from marshmallow import Schema, fields  # noqa: E402
from nameko.extensions import DependencyProvider  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select  # noqa: E402

from shared import db, plugins  # noqa: E402
from shared.bus.batch import subscribe_batch  # noqa: E402
from shared.bus.outbox import BusSession, Relay  # noqa: E402
from shared.bus.publisher import ConfirmingPublisher  # noqa: E402
from shared.bus.store import Store  # noqa: E402
from shared.bus.topology import SubscriptionSpec  # noqa: E402
from shared.contracts.registry import contract  # noqa: E402
from shared.service import ServiceBase  # noqa: E402


@contract("pulse", "pulse_sent")
class PulseSent(Schema):
    """A numbered pulse about a township; a handler fails on a ``poison`` one every time."""
    example = {"seq": 1, "township_id": 3, "poison": False, "work_ms": 0}
    seq = fields.Integer(required=True)
    township_id = fields.Integer(allow_none=True, load_default=None)
    poison = fields.Boolean(load_default=False)
    work_ms = fields.Integer(load_default=0)


pulse_metadata = MetaData()
counter_metadata = MetaData()
counter_rows = Table("counter_rows", counter_metadata, Column("id", Integer, primary_key=True),
                     Column("event_id", String(36), nullable=False),
                     Column("seq", Integer, nullable=False),
                     Column("township_id", Integer),
                     Column("pid", Integer, nullable=False),
                     Column("partition", Integer))
counter_batches = Table("counter_batches", counter_metadata, Column("id", Integer, primary_key=True),
                        Column("size", Integer, nullable=False),
                        Column("pid", Integer, nullable=False))


def partitions(config) -> int:
    return int((config.get("counter") or {}).get("partitions", 1))


class PulseService(ServiceBase):
    name = "pulse"
    publishes = ("pulse_sent",)
    store = Store(pulse_metadata)


class Delivery(DependencyProvider):
    """The batch entrypoint itself, to ask which partition an event of the batch came from."""

    def get_dependency(self, worker_ctx):
        return worker_ctx.entrypoint


class CounterService(ServiceBase):
    name = "counter"
    store = Store(counter_metadata)
    delivery = Delivery()

    @subscribe_batch(bindings_from=lambda config: [("pulse", "pulse_sent")],
                     partitions_from=partitions)
    def on_pulses(self, events):
        with self.store.handling_batch(events) as (session, fresh):
            if any(event.data["poison"] for event in events):
                raise RuntimeError("a poison pulse is in the batch")
            if fresh:
                session.execute(counter_rows.insert(), [
                    dict(event_id=e.id, seq=e.data["seq"], township_id=e.data["township_id"],
                         pid=os.getpid(), partition=self.delivery.partition_of(e.id))
                    for e in fresh])
            session.execute(counter_batches.insert().values(size=len(events), pid=os.getpid()))
            work_ms = max(event.data["work_ms"] for event in events)
            if work_ms:
                eventlet.sleep(work_ms / 1000)


def counter_spec(config) -> SubscriptionSpec:
    [spec] = plugins.subscriptions_of(CounterService, config)
    return spec


def publish_pulses(config, pulses: list[dict]):
    """Add ``pulses`` (payloads) to pulse's outbox and relay them (so they carry partition keys)."""
    database = db.database(config["services"]["pulse"]["database_url"])
    table = PulseService.store.outbox_table
    with database.transaction(BusSession, dict(outbox_table=table, source="pulse")) as session:
        envelopes = [session.publish("pulse_sent", data) for data in pulses]
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    try:
        Relay(database, table, publisher, batch_size=500).drain()
    finally:
        publisher.close()
    return envelopes


def counts(config) -> dict:
    with db.database(config["services"]["counter"]["database_url"]).reading() as session:
        rows, distinct = session.execute(select(
            func.count(), func.count(counter_rows.c.event_id.distinct()))).one()
    return {"rows": rows, "distinct": distinct}


def rows(config) -> list:
    with db.database(config["services"]["counter"]["database_url"]).reading() as session:
        return session.execute(select(counter_rows).order_by(counter_rows.c.id)).all()


def batch_sizes(config) -> list[int]:
    with db.database(config["services"]["counter"]["database_url"]).reading() as session:
        return list(session.execute(select(counter_batches.c.size)).scalars())


def create_tables(config):
    pulse_metadata.create_all(db.database(config["services"]["pulse"]["database_url"]).engine)
    counter_metadata.create_all(db.database(config["services"]["counter"]["database_url"]).engine)


def register():
    plugins.register(PulseService)
    plugins.register(CounterService)


def unregister():
    plugins.unregister("pulse")
    plugins.unregister("counter")


if __name__ == "__main__":
    register()
    from shared import cli
    sys.exit(cli.main(sys.argv[1:]))
