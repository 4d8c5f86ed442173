"""Asking the stars and members services (with fakes for their proxies): the current star
levels, and a clear answer when a service does not answer."""
from datetime import date

from nameko.exceptions import RpcTimeout, UnknownService

from services.talent import remote
from shared.errors import NotFound


class FakeStars:
    def __init__(self, answers, fail_after=None,
                 error=RpcTimeout("stars.score gave no answer within 3.0 s")):
        self.answers, self.fail_after, self.error, self.calls = answers, fail_after, error, []

    def score(self, kind, subject_id, period):
        self.calls.append((kind, subject_id, period))
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise self.error
        if subject_id not in self.answers:
            raise NotFound(f"member {subject_id} is not known to the stars service")
        return self.answers[subject_id]


def test_the_current_level_is_the_official_one_once_closed_else_the_live_one():
    stars = FakeStars({101: {"level": 2, "official": None},
                       102: {"level": 1, "official": {"level": 4}}})
    answer = remote.star_levels(stars, [101, 102, 103], "2026-Q4")
    assert answer.available and answer.levels == {101: 2, 102: 4, 103: None}
    assert stars.calls[0] == ("member", 101, "2026-Q4")


def test_a_silent_stars_stops_the_asking_and_says_why():
    stars = FakeStars({101: {"level": 2, "official": None}}, fail_after=1)
    answer = remote.star_levels(stars, [101, 102, 103, 104], "2026-Q4")
    assert not answer.available and answer.reason == "stars.score gave no answer within 3.0 s"
    assert len(stars.calls) == 2
    missing = remote.star_levels(FakeStars({}, 0, UnknownService("stars")), [1], "2026")
    assert "not running" in missing.reason


def test_the_period_of_a_day():
    assert remote.period_of(date(2026, 11, 27), "quarter") == "2026-Q4"
    assert remote.period_of(date(2026, 4, 1), "quarter") == "2026-Q2"
    assert remote.period_of(date(2026, 4, 1), "year") == "2026"


class FakeMembers:
    def __init__(self, error=None):
        self.error = error

    def get_member(self, member_id):
        if self.error:
            raise self.error
        if member_id != 101:
            raise NotFound("no member")
        return {"id": 101, "name": "王建国"}


def test_a_member_record_or_why_there_is_none():
    assert remote.member_record(FakeMembers(), 101)["record"]["name"] == "王建国"
    assert "no member 7" in remote.member_record(FakeMembers(), 7)["reason"]
    down = remote.member_record(FakeMembers(RpcTimeout("members.get_member gave no answer")), 101)
    assert not down["available"] and "no answer" in down["reason"]
