"""Events published by the stars service (创星晋级).

Subjects: ``member`` (Vanguard Star 先锋星), ``branch`` (Fortress Star 堡垒星), ``committee``
(township/street committee, Service Star 服务星; its id is the township's org unit id).
Period keys: ``"2026-11"`` (month), ``"2026-Q4"`` (quarter), ``"2026"`` (year). Scores are decimals
carried as strings. The *provisional* level is the level of the quarter-to-date score with the
quarter thresholds (实时升降); the *official* level is fixed when the quarter is closed (季有晋星).
"""
from marshmallow import EXCLUDE, Schema, fields, validate

from shared.contracts.registry import contract

SUBJECT_KINDS = ("member", "branch", "committee")
SCOPE_KINDS = ("county", "township", "branch")
CAUSES = ("scored", "revoked", "rolled_up", "directory", "rescored")
LEVEL = validate.Range(min=0, max=5)


def _score(**kwargs):
    return fields.Decimal(as_string=True, **kwargs)


@contract("stars", "score_changed")
class ScoreChanged(Schema):
    """A subject's score changed for the periods containing ``occurred_on`` (the date of the fact).

    ``cause``: ``scored`` (an event earned points), ``revoked`` (a revocation compensated them),
    ``rolled_up`` (a branch/committee total moved because a member/branch below it changed),
    ``directory`` (a member joined, moved or left the unit), ``rescored`` (an explicit re-scoring).
    ``score``/``level`` are the quarter-to-date score and the provisional level; the month and year
    figures are given beside them. ``vetoed`` is true when a veto item (否决项) forces level 0.

    Stars scores events in batches and publishes one ``score_changed`` per changed subject per
    batch: ``source_event_ids`` lists the events of the batch that credited (or, for
    ``revoked``, were revoked from) the subject directly, oldest first, at most 100;
    ``source_event_id`` is the last of them (null for ``rolled_up``/``directory``/``rescored``).
    ``occurred_on`` is the latest date of those facts."""
    example = {"subject_kind": "member", "subject_id": 101, "branch_id": 12, "township_id": 2,
               "occurred_on": "2026-10-18", "cause": "scored", "rulebook_version": "2026.1",
               "source_event_id": "6f1c1f5e-8d8e-4c1a-9a55-1f0f5f1d2b3c",
               "source_event_ids": ["6f1c1f5e-8d8e-4c1a-9a55-1f0f5f1d2b3c"],
               "month": "2026-10", "month_score": "12.50", "month_level": 3,
               "quarter": "2026-Q4", "quarter_score": "12.50", "quarter_level": 1,
               "year": "2026", "year_score": "96.00", "year_level": 2,
               "score": "12.50", "level": 1, "previous_score": "10.00", "previous_level": 1,
               "vetoed": False}
    subject_kind = fields.String(required=True, validate=validate.OneOf(SUBJECT_KINDS))
    subject_id = fields.Integer(required=True)
    branch_id = fields.Integer(allow_none=True, load_default=None)
    township_id = fields.Integer(allow_none=True, load_default=None)
    occurred_on = fields.Date(required=True)
    cause = fields.String(required=True, validate=validate.OneOf(CAUSES))
    rulebook_version = fields.String(required=True)
    source_event_id = fields.String(allow_none=True, load_default=None)
    source_event_ids = fields.List(fields.String(), load_default=list)
    month = fields.String(required=True)
    month_score = _score(required=True)
    month_level = fields.Integer(required=True, validate=LEVEL)
    quarter = fields.String(required=True)
    quarter_score = _score(required=True)
    quarter_level = fields.Integer(required=True, validate=LEVEL)
    year = fields.String(required=True)
    year_score = _score(required=True)
    year_level = fields.Integer(required=True, validate=LEVEL)
    score = _score(required=True)
    level = fields.Integer(required=True, validate=LEVEL)
    previous_score = _score(required=True)
    previous_level = fields.Integer(required=True, validate=LEVEL)
    vetoed = fields.Boolean(required=True)


@contract("stars", "star_level_changed")
class StarLevelChanged(Schema):
    """The provisional star level (quarter to date) of a subject moved up or down (实时升降).

    ``period`` is the quarter key; ``vetoes`` names the veto items when the level was forced to 0."""
    example = {"subject_kind": "member", "subject_id": 101, "old_level": 1, "new_level": 2,
               "period": "2026-Q4", "score": "21.00", "vetoes": []}
    subject_kind = fields.String(required=True, validate=validate.OneOf(SUBJECT_KINDS))
    subject_id = fields.Integer(required=True)
    old_level = fields.Integer(required=True, validate=LEVEL)
    new_level = fields.Integer(required=True, validate=LEVEL)
    period = fields.String(required=True)
    score = _score(required=True)
    vetoes = fields.List(fields.String(), load_default=list)


class RankedEntry(Schema):
    class Meta:
        unknown = EXCLUDE  # nested parts ignore fields added later, like the top level

    rank = fields.Integer(required=True)
    subject_id = fields.Integer(required=True)
    level = fields.Integer(required=True, validate=LEVEL)
    score = _score(required=True)


@contract("stars", "ranking_changed")
class RankingChanged(Schema):
    """A published ranking board changed: ``subject_id`` moved into, out of or within the first
    places (``stars.ranking_top_n``, 10 by default) of a ranking by level, then score, then who
    got there first, for the provisional (quarter) period. ``scope_kind`` is ``county``
    (``scope_id`` null), ``township`` or ``branch``. ``top`` is the board after the change. Moves
    below the board publish nothing (ask the ``rank_of`` RPC)."""
    example = {"subject_kind": "member", "scope_kind": "branch", "scope_id": 12, "period": "2026-Q4",
               "subject_id": 101, "old_rank": 5, "new_rank": 2, "size": 38,
               "top": [{"rank": 1, "subject_id": 140, "level": 3, "score": "33.50"},
                       {"rank": 2, "subject_id": 101, "level": 2, "score": "21.00"}]}
    subject_kind = fields.String(required=True, validate=validate.OneOf(SUBJECT_KINDS))
    scope_kind = fields.String(required=True, validate=validate.OneOf(SCOPE_KINDS))
    scope_id = fields.Integer(required=True, allow_none=True)
    period = fields.String(required=True)
    subject_id = fields.Integer(required=True)
    old_rank = fields.Integer(required=True)
    new_rank = fields.Integer(required=True)
    size = fields.Integer(required=True)
    top = fields.List(fields.Nested(RankedEntry), required=True)


class LevelCounts(Schema):
    class Meta:
        unknown = EXCLUDE  # nested parts ignore fields added later, like the top level

    subject_kind = fields.String(required=True, validate=validate.OneOf(SUBJECT_KINDS))
    subjects = fields.Integer(required=True)
    levels = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class CommitteeResult(Schema):
    class Meta:
        unknown = EXCLUDE  # nested parts ignore fields added later, like the top level

    committee_id = fields.Integer(required=True)
    score = _score(required=True)
    level = fields.Integer(required=True, validate=LEVEL)
    rank = fields.Integer(required=True)
    vetoes = fields.List(fields.String(), load_default=list)
    model_star = fields.Boolean(allow_none=True, load_default=None)


class _Closed(Schema):
    period = fields.String(required=True)
    closed_at = fields.DateTime(required=True)
    closed_by = fields.String(allow_none=True, load_default=None)
    rulebook_version = fields.String(required=True)
    counts = fields.List(fields.Nested(LevelCounts), required=True)


@contract("stars", "month_closed")
class MonthClosed(_Closed):
    """A month's scores were summarised into the scoring handbook (一月一汇总) and frozen.

    ``counts``: per subject kind, how many subjects ended the month at each level (month
    thresholds). Per-subject results are read with the ``score``/``explain``/``top`` RPCs."""
    example = {"period": "2026-10", "closed_at": "2026-11-01T02:00:00+00:00", "closed_by": "组织部 李明",
               "rulebook_version": "2026.1",
               "counts": [{"subject_kind": "member", "subjects": 406,
                           "levels": {"0": 120, "1": 90, "2": 80, "3": 60, "4": 40, "5": 16}}]}


@contract("stars", "quarter_closed")
class QuarterClosed(_Closed):
    """The official quarterly stars were set (季有晋星). ``committees`` carries every township/street
    committee's Service Star (服务星) for the quarter, for its secretary's assessment (talent)."""
    example = {"period": "2026-Q4", "closed_at": "2027-01-02T02:00:00+00:00", "closed_by": "组织部 李明",
               "rulebook_version": "2026.1",
               "counts": [{"subject_kind": "committee", "subjects": 10,
                           "levels": {"0": 0, "1": 1, "2": 2, "3": 4, "4": 2, "5": 1}}],
               "committees": [{"committee_id": 2, "score": "34.50", "level": 4, "rank": 2,
                               "vetoes": [], "model_star": None}]}
    committees = fields.List(fields.Nested(CommitteeResult), required=True)


@contract("stars", "year_closed")
class YearClosed(_Closed):
    """The year was closed and archived (每年年底清零): its results are final, and the next year
    starts every subject at zero. ``committees`` are the annual Service Stars; ``model_stars``
    (示范星) counts the subjects of each kind that earned the Model Star."""
    example = {"period": "2026", "closed_at": "2027-01-05T02:00:00+00:00", "closed_by": "组织部 李明",
               "rulebook_version": "2026.1",
               "counts": [{"subject_kind": "member", "subjects": 406,
                           "levels": {"0": 30, "1": 60, "2": 100, "3": 120, "4": 70, "5": 26}}],
               "committees": [{"committee_id": 2, "score": "140.00", "level": 4, "rank": 2,
                               "vetoes": [], "model_star": False}],
               "model_stars": {"member": 9, "branch": 1, "committee": 0}}
    committees = fields.List(fields.Nested(CommitteeResult), required=True)
    model_stars = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


@contract("stars", "sanction_recorded")
class SanctionRecorded(Schema):
    """The county organisation department recorded a sanction against a member
    (``stars.record_sanction``): a veto item (否决项), which forces the member's level to 0 for the
    month, quarter and year of ``occurred_on`` whatever the score, or a deduction item (减星项).

    ``item`` is the code of a veto or deduction item of the member rulebook in force on
    ``occurred_on``; the points are the rulebook's (its rules on ``stars.sanction_recorded``,
    one per item, ``when: {item: ...}``), never the publisher's. ``occurred_on`` is the date the
    sanction was decided: the date of the fact, deciding the month, quarter and year it counts in
    (a date in a closed month or quarter changes the live figures, not the frozen result; a date
    in an archived year is refused). ``branch_id``, ``township_id`` and ``category`` are the
    member's place when it was recorded. ``reason`` and ``recorded_by`` are for the record."""
    example = {"member_id": 101, "branch_id": 12, "township_id": 2, "category": "rural",
               "item": "serious_violation", "occurred_on": "2026-11-20",
               "reason": "党内严重警告处分（县纪委 2026 第 12 号决定）", "recorded_by": "组织部 李明"}
    member_id = fields.Integer(required=True)
    branch_id = fields.Integer(allow_none=True, load_default=None)
    township_id = fields.Integer(allow_none=True, load_default=None)
    category = fields.String(allow_none=True, load_default=None)
    item = fields.String(required=True, validate=validate.Length(min=1))
    occurred_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))
    recorded_by = fields.String(required=True, validate=validate.Length(min=1))
