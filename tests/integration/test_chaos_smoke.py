"""``make chaos`` at a tiny scale, so ``make test`` exercises the harness: two cheap rows against
real ``jiceng serve`` processes, and the judge shown to catch a lost and a duplicated activity
(a harness that can only say PASS proves nothing)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert, select

from chaos import check
from chaos.env import Env, MainBroker
from chaos.load import Load, activity_request
from chaos.scenarios import ROWS, run_row
from services.members.models import Activity
from services.stars.models import LedgerEntry
from shared import db
from tests.support.running import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
SCALE = 0.02     # 20 requests a row (the rows' minimum)


@pytest.mark.parametrize("row_id", ["consumer-down", "duplicates"])
def test_a_chaos_row_runs_against_real_processes_and_passes(row_id, tmp_path):
    row = next(row for row in ROWS if row.id == row_id)
    result = run_row(row, SCALE, str(tmp_path))
    assert result.ok, (result.error, result.notes, result.details[:10])
    assert result.sent == result.committed == result.reflected == 20
    assert result.lost == result.duplicated == result.members_off == 0
    assert result.catch_up is not None


def test_the_judge_counts_a_lost_and_a_duplicated_activity(tmp_path):
    env = Env(str(tmp_path), MainBroker()).setup()
    try:
        requests = [activity_request("judge", n, env.member_ids[n],
                                     date.today() - timedelta(days=n)) for n in range(6)]
        Load(env.config, requests).run()
        wait_for(lambda: check.caught_up(env.urls["members"], env.urls["stars"], env.config),
                 timeout=60, interval=0.2, message="stars caught up")
        clean = check.verify(env.urls["members"], env.urls["stars"], env.config, "judge",
                             requests)
        assert (clean.committed, clean.reflected, clean.lost, clean.duplicated,
                clean.members_off) == (6, 6, 0, 0, 0)

        members, stars = db.database(env.urls["members"]), db.database(env.urls["stars"])
        with stars.transaction() as session:      # stars forgets one activity's points
            event_id = requests[0].reply["event_id"]
            session.execute(delete(LedgerEntry).where(LedgerEntry.source_event_id == event_id))
        with members.transaction() as session:    # members recorded one request twice
            row = session.execute(select(*Activity.__table__.c).where(
                Activity.id == requests[1].reply["id"])).one()._asdict()
            row.pop("id")
            session.execute(insert(Activity.__table__).values(**{**row, "event_id": "judge-copy"}))
        found = check.verify(env.urls["members"], env.urls["stars"], env.config, "judge",
                             requests)
        assert found.lost >= 1 and found.duplicated >= 1, found
        assert found.members_off == 2, found.details
        assert not found.clean
    finally:
        env.close()
