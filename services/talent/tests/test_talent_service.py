"""The talent service's methods (``worker_factory``: the real store, fake neighbours), then the
service itself over the real RabbitMQ: directory events, idempotent writes, refusals naming the
field, and a shortlist that says so when the stars service is not there."""

import pytest
from nameko.exceptions import RpcTimeout
from nameko.testing.services import worker_factory

from services.talent.clock import FixedClock
from services.talent.service import TalentService
from shared import plugins
from shared.bus.rpc import rpc_client
from shared.contracts.envelope import Envelope
from shared.errors import Conflict, InvalidInput, NotFound
from talent_helpers import DAY, SETTINGS, TOWN, UNITS, store  # noqa: F401
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy, publish_raw

CANDIDATE = {"name": "李强", "gender": "male", "birth_date": "1992-03-01", "education": "bachelor",
             "member_id": 101, "experience_years": 6}


class Stars:
    def __init__(self, levels=None, silent=False):
        self.levels, self.silent = levels or {}, silent

    def score(self, kind, subject_id, period):
        if self.silent:
            raise RpcTimeout("stars.score gave no answer within 3.0 s")
        if subject_id not in self.levels:
            raise NotFound("unknown")
        return {"level": self.levels[subject_id], "official": None}


class Members:
    def get_member(self, member_id):
        raise RpcTimeout("members.get_member gave no answer within 3.0 s")


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory):
    """Refusals happen before anything is read or written: one database serves them all."""
    from shared import migrate
    url = f"sqlite:///{tmp_path_factory.mktemp('talent')}/refusals.sqlite"
    migrate.upgrade(TalentService, url)
    return TalentService.store.handle(url)


def service(store, **neighbours):
    return worker_factory(TalentService, store=store, settings=SETTINGS, clock=FixedClock(DAY),
                          **neighbours)


def test_a_shortlist_asks_stars_and_answers_clearly_when_it_is_silent(store):
    talent = service(store, stars=Stars({101: 4}))
    cadre = talent.register_cadre(CANDIDATE)
    talent.add_reserve_candidate({"cadre_id": cadre["id"], "township_id": TOWN, "village_id": 12,
                                  "added_on": "2026-01-05"})
    found = talent.shortlist(12)
    assert found["complete"] and found["shortlist"][0]["star_level"] == 4
    assert found["stars"] == {"available": True, "period": "2026-Q4", "reason": None}
    silent = service(store, stars=Stars(silent=True)).shortlist(12, "2026-11-27")
    assert not silent["complete"] and "no answer within 3.0 s" in silent["stars"]["reason"]
    assert [c["cadre_id"] for c in silent["shortlist"]] == [cadre["id"]]
    profile = service(store, members=Members()).get_cadre(cadre["id"])
    assert profile["member_record"]["available"] is False
    assert "no answer" in profile["member_record"]["reason"]


@pytest.mark.parametrize("call, field", [
    (lambda t: t.register_cadre({**CANDIDATE, "name": "王\x00"}), "name"),
    (lambda t: t.register_cadre({**CANDIDATE, "member_id": 2 ** 70}), "member_id"),
    (lambda t: t.register_cadre({**CANDIDATE, "birth_date": "1e999"}), "birth_date"),
    (lambda t: t.register_cadre({**CANDIDATE, "colour": "red"}), "colour"),
    (lambda t: t.appoint({"cadre_id": 1, "role": "mayor", "unit_id": 12,
                          "started_on": "2026-01-01", "reason": "x"}), "role"),
    (lambda t: t.appoint({"cadre_id": 1, "role": "first_secretary", "unit_id": 12,
                          "started_on": "2026-01-01", "reason": "x"}), "sent_by"),
    (lambda t: t.remove_from_post(1, "2026-13-01", "x"), "ended_on"),
    (lambda t: t.list_cadres("mayors"), "team"),
    (lambda t: t.list_cadres("reserve", limit=5000), "limit"),
    (lambda t: t.record_attendance({"session_id": 1, "cadre_ids": [1, 1]}), "cadre_ids"),
    (lambda t: t.add_course({"title": "x", "mode": "field", "hours": "NaN"}), "hours"),
    (lambda t: t.record_shop_sales({"shop_id": 1, "year": 2026, "amount": "1.001"}), "amount"),
    (lambda t: t.record_review_votes({"cadre_id": 1, "year": 2026, "excellent": -1, "good": 0,
                                      "fair": 0, "poor": 0, "entered_by": "李明"}), "excellent"),
    (lambda t: t.training_hours("2026"), "year"),
    (lambda t: t.shortlist(True), "village_id"),
])
def test_bad_input_is_refused_naming_the_field(sqlite_store, call, field):
    with pytest.raises(InvalidInput) as refused:
        call(service(sqlite_store))
    assert field in refused.value.errors


def test_full_width_digits_are_read_as_digits(store):
    cadre = service(store).register_cadre({**CANDIDATE, "birth_date": "１９９２-０３-０１"})
    assert cadre["birth_date"] == "1992-03-01"


@pytest.mark.integration
def test_over_the_broker_it_learns_the_county_writes_once_and_says_when_stars_is_absent(
        amqp_uri, db_url_factory):
    from shared import migrate
    url = db_url_factory()
    migrate.upgrade(TalentService, url)
    config = make_config(amqp_uri, {"talent": url})
    config["talent"] = {"stars_timeout_seconds": 1, "today": DAY.isoformat()}
    plugins.register(TalentService)
    spy = EventSpy(amqp_uri, "talent")
    try:
        with services_running(config, TalentService), rpc_client(config) as cluster:
            for n, unit in enumerate(UNITS):
                publish_raw(config, Envelope("org_unit_created", "members", {
                    "org_unit_id": unit[0], "parent_id": unit[1], "township_id": unit[2],
                    "kind": unit[3], "name": unit[4]}).to_wire(), f"u-{n}")
            publish_raw(config, Envelope("member_registered", "members", {
                "member_id": 101, "branch_id": 12, "township_id": TOWN, "category": "rural",
                "name": "李强", "status": "full", "join_date": "2015-07-01"}).to_wire(), "m-101")
            talent = cluster.talent
            cadre = wait_for(lambda: _try(lambda: talent.register_cadre(CANDIDATE)),
                             message="member 101 learned from members' event")
            with rpc_client(config, idempotency_key="appoint-1") as keyed:
                payload = {"cadre_id": cadre["id"], "role": "village_secretary", "unit_id": 12,
                           "started_on": "2026-03-01", "reason": "换届选举"}
                first = keyed.talent.appoint(payload)
                assert keyed.talent.appoint(payload) == first
            with pytest.raises(Conflict):
                talent.register_cadre(CANDIDATE)
            with pytest.raises(InvalidInput) as refused:
                talent.appoint({"cadre_id": "one", "role": "", "unit_id": 12})
            assert {"cadre_id", "role", "started_on", "reason"} <= set(refused.value.errors)
            talent.remove_from_post(first["id"], "2026-11-01", "调任")
            talent.add_reserve_candidate({"cadre_id": cadre["id"], "township_id": TOWN,
                                          "added_on": "2026-01-05"})
            answer = talent.shortlist(12)
            assert answer["complete"] is False and answer["stars"]["available"] is False
            assert "stars" in answer["stars"]["reason"] and answer["notes"]
            assert [c["cadre_id"] for c in answer["shortlist"]] == [cadre["id"]]
            assert talent.health()["status"] == "ok"
        assert len(spy.wait_for("cadre_appointed")) == 1
        assert len(spy.wait_for("cadre_removed")) == 1
    finally:
        spy.close()
        plugins.unregister("talent")


def _try(call):
    try:
        return call()
    except NotFound:
        return None
