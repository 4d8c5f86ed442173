from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from shared import db
from shared.bus import inbox
from shared.bus.housekeeping import prune
from shared.bus.outbox import BusSession
from tests.support import bus_app

pytestmark = pytest.mark.integration


def test_prune_deletes_only_settled_old_rows_old_inbox_claims_and_old_replies(db_url_factory):
    url = db_url_factory()
    metadata_tables = bus_app.ProbeService.store
    database = db.database(url)
    bus_app.probe_metadata.create_all(database.engine)
    outbox, inbox_table = metadata_tables.outbox_table, metadata_tables.inbox_table
    requests = metadata_tables.requests_table
    with database.transaction(BusSession, dict(outbox_table=outbox, source="probe")) as session:
        for seq in range(4):
            session.publish("probe_sent", {"seq": seq})
        for event_id in ("old", "new"):
            inbox.claim(session, inbox_table, "tally.on_probe", event_id)
            session.execute(requests.insert().values(consumer="probe.emit", request_key=event_id,
                                                     fingerprint="f", reply="1",
                                                     created_at=datetime.now(timezone.utc)))
    long_ago = datetime.now(timezone.utc) - timedelta(days=40)
    with database.transaction() as session:
        session.execute(update(outbox).where(outbox.c.id <= 2).values(status="published",
                                                                       published_at=long_ago))
        session.execute(update(outbox).where(outbox.c.id == 3).values(created_at=long_ago))
        session.execute(update(inbox_table).where(inbox_table.c.event_id == "old")
                        .values(handled_at=long_ago))
        session.execute(update(requests).where(requests.c.request_key == "old")
                        .values(created_at=long_ago))
    assert prune(database, outbox, inbox_table, keep_days=30, requests_table=requests) == {
        "outbox_deleted": 2, "inbox_deleted": 1, "requests_deleted": 1}
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(outbox)) == 2
        assert [r.event_id for r in session.execute(select(inbox_table.c.event_id))] == ["new"]
        assert [r.request_key for r in session.execute(select(requests.c.request_key))] == ["new"]
    with pytest.raises(ValueError):
        prune(database, outbox, inbox_table, keep_days=0)
