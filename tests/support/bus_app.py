"""Two tiny services that exercise the bus: ``probe`` publishes, ``tally`` counts.

``tally`` stores one row per handled event in a table with NO uniqueness, so a double count
would be visible; only the inbox stands between a redelivery and a duplicate. Run as a script it
serves them in a separate process (for the kill tests)::

    python -m tests.support.bus_app serve tally --config cfg.yaml
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import sys  # noqa: E402

from marshmallow import Schema, fields  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update  # noqa: E402

from shared import plugins  # noqa: E402
from shared.bus.rpc import BoundedRpc  # noqa: E402
from shared.bus.store import Store  # noqa: E402
from shared.bus.subscribe import subscribe  # noqa: E402
from shared.contracts.registry import contract  # noqa: E402
from shared.service import ServiceBase  # noqa: E402


@contract("probe", "probe_sent")
class ProbeSent(Schema):
    """A numbered probe; the handler fails its first ``fail_times`` attempts."""
    seq = fields.Integer(required=True)
    fail_times = fields.Integer(load_default=0)
    work_ms = fields.Integer(load_default=0)


@contract("probe", "probe_ignored")
class ProbeIgnored(Schema):
    """Published by probe, consumed by nobody."""
    seq = fields.Integer(required=True)


probe_metadata = MetaData()
tally_metadata = MetaData()
tally_rows = Table("tally", tally_metadata, Column("id", Integer, primary_key=True),
                   Column("event_id", String(36), nullable=False),
                   Column("seq", Integer, nullable=False))
tally_attempts = Table("tally_attempts", tally_metadata,
                       Column("event_id", String(36), primary_key=True),
                       Column("attempts", Integer, nullable=False))


class ProbeService(ServiceBase):
    name = "probe"
    publishes = ("probe_sent", "probe_ignored")
    store = Store(probe_metadata)
    tally = BoundedRpc("tally", timeout=0.5)

    @rpc
    def emit(self, count, fail_times=0, event_type="probe_sent", start=0):
        with self.store.transaction() as session:
            for seq in range(start, start + count):
                data = {"seq": seq}
                if event_type == "probe_sent":
                    data["fail_times"] = fail_times
                session.publish(event_type, data)
        return count

    @rpc
    def emit_then_fail(self):
        with self.store.transaction() as session:
            session.publish("probe_sent", {"seq": -1})
            raise RuntimeError("the data write failed after the event was added")

    @rpc
    def ask_tally_slowly(self, seconds):
        return self.tally.slow(seconds)


class TallyService(ServiceBase):
    name = "tally"
    store = Store(tally_metadata)

    @subscribe("probe", "probe_sent")
    def on_probe(self, event):
        if event.data["fail_times"]:
            with self.store.transaction() as session:
                attempts = _count_attempt(session, event.id)
            if attempts <= event.data["fail_times"]:
                raise RuntimeError(f"planned failure {attempts} of {event.data['fail_times']}")
        with self.store.handling(event) as session:
            session.execute(tally_rows.insert().values(event_id=event.id, seq=event.data["seq"]))
            if event.data["work_ms"]:
                eventlet.sleep(event.data["work_ms"] / 1000)

    @rpc
    def slow(self, seconds):
        eventlet.sleep(seconds)
        return "late"

    @rpc
    def counts(self):
        with self.store.reading() as session:
            return tally_counts(session)


def _count_attempt(session, event_id):
    done = session.execute(update(tally_attempts).where(tally_attempts.c.event_id == event_id)
                           .values(attempts=tally_attempts.c.attempts + 1)).rowcount
    if not done:
        session.execute(tally_attempts.insert().values(event_id=event_id, attempts=1))
    return session.execute(select(tally_attempts.c.attempts)
                           .where(tally_attempts.c.event_id == event_id)).scalar_one()


def tally_counts(session):
    rows, distinct = session.execute(select(func.count(), func.count(tally_rows.c.event_id.distinct()))).one()
    return {"rows": rows, "distinct": distinct}


def register():
    plugins.register(ProbeService)
    plugins.register(TallyService)


def unregister():
    plugins.unregister("probe")
    plugins.unregister("tally")


if __name__ == "__main__":
    register()
    from shared import cli
    sys.exit(cli.main(sys.argv[1:]))
