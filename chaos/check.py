"""What a row is judged by: the activities that exist in members (its database, read directly),
what stars made of them (its database), and the promise between the two.

For every activity: stars keeps its event (``scored_events``) with status ``revoked`` exactly
when members revoked it, and its ledger rows for the member net to the points the rulebook gives
the activity (0 once revoked). For every member: the ledger total equals the sum of the points
of the member's activities that exist and are not revoked, and every standing's ``own_score``
(month, quarter, year) equals that sum with the rulebook's monthly caps applied
(``scoring.summarise_periods`` on the expected entries): a score computed from members' rows,
compared with the score stars keeps.

Counting for one row (its logical requests are the activities whose ``project`` is
``chaos:<row>:<n>``):

* committed: activities of the row in members (a logical request recorded twice counts twice);
* reflected: committed activities that stars reflects exactly (above);
* lost: answered requests without their activity, activities stars lacks or under-counts,
  revocations members made that stars did not apply;
* duplicated: activities beyond the first per logical request, and events stars counted more
  than once (their ledger rows net to more than the rulebook gives).
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from services.members.models import Activity, Member
from services.stars import books as books_module
from services.stars import scoring
from services.stars.models import LedgerEntry, ScoredEvent, StandingRow
from services.stars.periods import month_key
from shared import db

ZERO = Decimal(0)
KIND_SPECIFIC = ("hours", "team_id", "project", "meeting_kind", "attended", "amount", "households")


@dataclass
class Facts:
    """Members' side: every activity (id, event id, member, key, revoked, expected entries)."""
    activities: list
    expected: dict          # event id -> member ledger entries the rulebook gives


@dataclass
class Verdict:
    committed: int = 0
    reflected: int = 0
    lost: int = 0
    duplicated: int = 0
    members_off: int = 0
    members_checked: int = 0
    details: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.members_off)


def _payload(activity) -> dict:
    return {"member_id": activity.member_id, "branch_id": activity.branch_id,
            "township_id": activity.township_id, "category": activity.category,
            "activity_id": activity.id, "kind": activity.kind, "occurred_on": activity.occurred_on,
            **{name: getattr(activity, name) for name in KIND_SPECIFIC}}


def member_facts(members_url, config) -> Facts:
    books = books_module.load(config)
    with db.database(members_url).reading() as session:
        activities = session.execute(select(*Activity.__table__.c).order_by(Activity.id)).all()
    expected = {}
    for activity in activities:
        book = books_module.in_force(books, activity.occurred_on)
        entries = scoring.score_event(book, "members", "activity_recorded", _payload(activity),
                                      activity.occurred_on) if book else []
        expected[activity.event_id] = [e for e in entries if e["subject_kind"] == "member"]
    return Facts(activities, expected)


def stars_state(stars_url):
    with db.database(stars_url).reading() as session:
        kept = dict(session.execute(select(ScoredEvent.event_id, ScoredEvent.status)).all())
        rows = session.execute(select(
            LedgerEntry.id, LedgerEntry.subject_id, LedgerEntry.source_event_id,
            LedgerEntry.points, LedgerEntry.compensates_id).where(
            LedgerEntry.subject_kind == "member")).all()
        standings = session.execute(select(
            StandingRow.subject_id, StandingRow.period, StandingRow.own_score).where(
            StandingRow.subject_kind == "member")).all()
    return kept, rows, standings


def event_nets(rows) -> tuple[dict, dict]:
    """Per event id: the net points of its member ledger rows (with their compensations) and how
    many rows it wrote."""
    by_id = {row.id: row for row in rows}
    net, written = defaultdict(lambda: ZERO), Counter()
    for row in rows:
        if row.compensates_id is None:
            net[row.source_event_id] += Decimal(row.points)
            written[row.source_event_id] += 1
        else:
            original = by_id.get(row.compensates_id)
            key = original.source_event_id if original is not None else row.source_event_id
            net[key] += Decimal(row.points)
    return net, written


def reflected_events(facts: Facts, kept: dict, net: dict) -> set:
    """Event ids of the activities stars reflects exactly."""
    found = set()
    for activity in facts.activities:
        status = kept.get(activity.event_id)
        revoked = activity.revoked_at is not None
        if status is None or (status == "revoked") != revoked:
            continue
        want = ZERO if revoked else sum((Decimal(e["points"]) for e in
                                         facts.expected[activity.event_id]), ZERO)
        if net.get(activity.event_id, ZERO) == want:
            found.add(activity.event_id)
    return found


def counts_match(members_url, stars_url) -> bool:
    """Whether stars keeps as many activity events, and as many revoked, as members holds
    activities and revoked ones (two counts: cheap enough to poll)."""
    with db.database(members_url).reading() as session:
        total, revoked = session.execute(select(func.count(), func.count(Activity.revoked_at))
                                         ).one()
    with db.database(stars_url).reading() as session:
        kept = dict(session.execute(select(ScoredEvent.status, func.count()).where(
            ScoredEvent.source == "members", ScoredEvent.type == "activity_recorded")
            .group_by(ScoredEvent.status)).all())
    return sum(kept.values()) == total and kept.get("revoked", 0) == revoked


def caught_up(members_url, stars_url, config) -> bool:
    """Whether stars reflects every activity members holds (counts first, then in full)."""
    if not counts_match(members_url, stars_url):
        return False
    facts = member_facts(members_url, config)
    kept, rows, _ = stars_state(stars_url)
    net, _ = event_nets(rows)
    return len(reflected_events(facts, kept, net)) == len(facts.activities)


def members_off(facts: Facts, rows, standings, config) -> list[tuple[int, str]]:
    """``(member, what)`` for each ledger total or standing that differs from what members'
    rows give."""
    entries = [entry for activity in facts.activities if activity.revoked_at is None
               for entry in facts.expected[activity.event_id]]
    totals = defaultdict(lambda: ZERO)
    for entry in entries:
        totals[entry["subject_id"]] += Decimal(entry["points"])
    got = defaultdict(lambda: ZERO)
    for row in rows:
        got[row.subject_id] += Decimal(row.points)
    off = []
    for member in sorted(set(totals) | set(got)):
        if totals[member] != got[member]:
            off.append((member, f"member {member}: ledger total {got[member]}, "
                                f"expected {totals[member]}"))
    periods = {period for _, period, _ in standings}
    periods |= {month_key(entry["occurred_on"]) for entry in entries}
    periods |= {p for entry in entries for p in (entry["occurred_on"].strftime("%Y"),
                                                 _quarter(entry["occurred_on"]))}
    books = books_module.load(config)
    summaries = scoring.summarise_periods(books, entries, sorted(periods)) if periods else {}
    kept = {(member, period): Decimal(score) for member, period, score in standings}
    for period in sorted(periods):
        want = {key[1]: summary.score for key, summary in summaries.get(period, {}).items()
                if key[0] == "member"}
        for member in sorted(set(want) | {m for m, p in kept if p == period}):
            expected = want.get(member, ZERO)
            have = kept.get((member, period), ZERO)
            if expected != have:
                off.append((member, f"member {member} {period}: own_score {have}, "
                                    f"expected {expected}"))
    return off


def _quarter(day) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def verify(members_url, stars_url, config, row, requests) -> Verdict:
    """The verdict of one row: its requests (``load.Request``) against both databases."""
    facts = member_facts(members_url, config)
    kept, rows, standings = stars_state(stars_url)
    net, written = event_nets(rows)
    reflected = reflected_events(facts, kept, net)
    verdict = Verdict()
    prefix = f"chaos:{row}:"
    mine = [a for a in facts.activities if (a.project or "").startswith(prefix)]
    by_key = defaultdict(list)
    for activity in mine:
        by_key[activity.project].append(activity)
    verdict.committed = len(mine)
    verdict.reflected = sum(1 for a in mine if a.event_id in reflected)
    by_id = {a.id: a for a in facts.activities}
    for request in requests:
        if request.method == "record_activity" and request.reply is not None:
            activity = by_id.get(request.reply["id"])
            if activity is None or activity.project != request.key:
                verdict.lost += 1
                verdict.details.append(f"{request.key}: answered {request.reply['id']}, "
                                       "no such activity in members")
        if request.method == "import_activities" and request.reply is not None:
            for activity_id in request.reply["activity_ids"]:
                if activity_id not in by_id:
                    verdict.lost += 1
                    verdict.details.append(f"{request.key}: answered {activity_id}, "
                                           "no such activity in members")
        if request.method == "revoke_activity" and request.reply is not None:
            activity = by_id.get(request.args[0])
            if activity is None or activity.revoked_at is None:
                verdict.lost += 1
                verdict.details.append(f"{request.key}: answered, activity not revoked")
    for key, found in by_key.items():
        if len(found) > 1:
            verdict.duplicated += len(found) - 1
            verdict.details.append(f"{key}: recorded {len(found)} times "
                                   f"(activities {[a.id for a in found]})")
    for activity in mine:
        if activity.event_id in reflected:
            continue
        status = kept.get(activity.event_id)
        revoked = activity.revoked_at is not None
        want = ZERO if revoked else sum((Decimal(e["points"]) for e in
                                         facts.expected[activity.event_id]), ZERO)
        have = net.get(activity.event_id, ZERO)
        what = (f"activity {activity.id} ({activity.project}, event {activity.event_id[:8]}, "
                f"{'revoked' if revoked else 'live'}): stars status {status}, net {have}, "
                f"expected {want}, ledger rows {written.get(activity.event_id, 0)}")
        if status is None or have < want or (revoked and status != "revoked"):
            verdict.lost += 1
        else:
            verdict.duplicated += 1
        verdict.details.append(what)
    off = members_off(facts, rows, standings, config)
    verdict.members_off = len({member for member, _ in off})
    with db.database(members_url).reading() as session:
        verdict.members_checked = session.scalar(select(func.count()).select_from(Member))
    verdict.details += [what for _, what in off[:20]]
    return verdict
