"""The stars service checks a gateway caller's scope itself (``shared.scope``): a subject's
score, explanation and rank belong to its unit (a member's branch, the branch, the township
committee), walked up through the stars directory; the county-wide reports need
``stars.report``. Service built without a broker, on a real database."""
import pytest
from nameko.testing.services import worker_factory

from services.stars.models import Subject
from services.stars.service import StarsService
from shared import migrate
from shared.bus import guard
from shared.errors import Forbidden, NotFound

TOWN, VILLAGE, OTHER_TOWN, OTHER_VILLAGE = 2, 3, 4, 5
MINE, THEIRS = 101, 102
READS = ["*.read"]


@pytest.fixture
def url(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(StarsService, url)
    with StarsService.store.handle(url).transaction() as session:
        session.add_all([
            Subject(kind="committee", id=TOWN, township_id=TOWN),
            Subject(kind="committee", id=OTHER_TOWN, township_id=OTHER_TOWN),
            Subject(kind="branch", id=VILLAGE, township_id=TOWN),
            Subject(kind="branch", id=OTHER_VILLAGE, township_id=OTHER_TOWN),
            Subject(kind="member", id=MINE, branch_id=VILLAGE, township_id=TOWN),
            Subject(kind="member", id=THEIRS, branch_id=OTHER_VILLAGE, township_id=OTHER_TOWN)])
    return url


def stars_for(url, **context):
    return worker_factory(StarsService, store=StarsService.store.handle(url, context=context))


def answered(call):
    """The call ran (an answer, or NotFound for a subject with no standing yet)."""
    try:
        call()
    except NotFound:
        pass
    return True


@pytest.mark.parametrize("method", ["score", "explain", "rank_of"])
def test_a_village_cadre_reads_its_own_village_only(url, method):
    cadre = stars_for(url, role="village_cadre", scope_unit_id=VILLAGE, permissions=READS)
    for kind, subject in (("member", MINE), ("branch", VILLAGE)):
        assert answered(lambda: getattr(cadre, method)(kind, subject, "2026-11"))
    for kind, subject, unit in (("member", THEIRS, OTHER_VILLAGE),
                                ("branch", OTHER_VILLAGE, OTHER_VILLAGE),
                                ("committee", TOWN, TOWN)):
        with pytest.raises(Forbidden, match=f"unit {unit} is outside your scope"):
            getattr(cadre, method)(kind, subject, "2026-11")


def test_township_staff_cover_their_villages_and_inside_calls_are_not_limited(url):
    staff = stars_for(url, role="township_staff", scope_unit_id=TOWN, permissions=READS)
    for kind, subject in (("member", MINE), ("branch", VILLAGE), ("committee", TOWN)):
        assert answered(lambda: staff.score(kind, subject, "2026-11"))
    with pytest.raises(Forbidden):
        staff.score("member", THEIRS, "2026-11")
    inside = stars_for(url)
    assert answered(lambda: inside.score("member", THEIRS, "2026-11"))


def test_the_county_wide_member_reports_need_stars_report():
    staff = {"role": "township_staff", "permissions": READS}
    auditor = {"role": "auditor", "permissions": READS + ["stars.report"]}
    for method in ("award_priority", "unqualified_review"):
        assert "stars.report" in guard.refusal(StarsService, method, staff)
        assert guard.refusal(StarsService, method, auditor) is None
