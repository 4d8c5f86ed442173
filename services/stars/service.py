"""The stars service (创星晋级): scores, star levels, rankings, period closings, consequences.

Thin on purpose: rules live in the pure modules (``rulebook``, ``scoring``, ``levels``,
``rankings``, ``consequences``, ``periods``), database work in ``ledger``, ``standings``,
``directory``, ``closings``, what an event does in ``pipeline`` and RPC answers in ``reports``.
"""
from nameko.extensions import DependencyProvider
from sqlalchemy import select

from services.stars import api as http_api
from services.stars import books, closings, pipeline, reports
from services.stars.models import Base, Subject
from shared.bus.store import Store
from shared.bus.requests import rpc_write
from shared.bus.batch import subscribe_batch
from shared.bus.refusals import rpc
from shared.service import ServiceBase


class Rulebooks(DependencyProvider):
    """The rulebooks of ``stars.rulebook_dir`` (loaded at start-up; ``rescore`` re-reads them)."""

    def setup(self):
        self.config = self.container.config
        self.settings = books.settings(self.config)
        self.books = books.load(self.config)

    def reload(self):
        self.books = books.load(self.config, fresh=True)
        return self.books

    def get_dependency(self, worker_ctx):
        return self


class StarsService(ServiceBase):
    api = http_api.ROUTES
    name = "stars"
    publishes = ("score_changed", "star_level_changed", "ranking_changed", "month_closed",
                 "quarter_closed", "year_closed", "sanction_recorded")
    store = Store(Base.metadata)
    rulebooks = Rulebooks()

    @classmethod
    def rpc_examples(cls, cluster):
        """Valid calls for the shared input fuzz suite (``ServiceBase.rpc_examples``)."""
        from services.stars.examples import rpc_examples
        return rpc_examples(cluster)

    # -- scope (``shared.scope``): a subject's unit in the stars directory -------------------------
    scope_units = Subject

    def unit_of_subject(self, subject_kind, subject_id, *_, **__):
        """A member's branch, or the branch or committee itself (None: not an id, or a member
        stars has not heard of; the RPC then answers for itself)."""
        if isinstance(subject_id, bool) or not isinstance(subject_id, int):
            return None
        if subject_kind in ("branch", "committee"):
            return subject_id
        with self.store.reading() as session:
            return session.scalar(select(Subject.branch_id).where(
                Subject.kind == "member", Subject.id == subject_id))

    def scope_parent_of(self, unit_id):
        """A branch's township; a committee (a township) is as high as stars knows."""
        with self.store.reading() as session:
            return session.scalar(select(Subject.township_id).where(
                Subject.kind == "branch", Subject.id == unit_id))

    # -- events ----------------------------------------------------------------------------------
    @subscribe_batch(bindings_from=books.bindings, partitions_from=books.partitions)
    def on_events(self, events):
        """Every event the rulebook scores, revocations and the directory events, in batches,
        partitioned by township (``stars.partitions``): one consumer at a time per partition."""
        with self.store.handling_batch(events) as (session, fresh):
            pipeline.absorb(session, self.rulebooks, fresh)

    # -- reads -----------------------------------------------------------------------------------
    @rpc
    def score(self, subject_kind, subject_id, period):
        kind, subject_id, key = self._subject(subject_kind, subject_id, period)
        with self.store.reading() as session:
            return reports.score(session, kind, subject_id, key)

    @rpc
    def explain(self, subject_kind, subject_id, period, limit=500):
        kind, subject_id, key = self._subject(subject_kind, subject_id, period)
        limit = reports.count(limit, "limit", 5000)
        with self.store.reading() as session:
            return reports.explain(session, self.rulebooks.books, kind, subject_id, key, limit)

    @rpc
    def rank_of(self, subject_kind, subject_id, period, scope_kind=None):
        kind, subject_id, key = self._subject(subject_kind, subject_id, period)
        with self.store.reading() as session:
            return reports.rank_of(session, kind, subject_id, key, scope_kind)

    @rpc
    def top(self, subject_kind, scope_kind, scope_id, period, n=10):
        kind = reports.subject_kind(subject_kind)
        scope_kind, scope_id = reports.scope(kind, scope_kind, scope_id)
        key, n = reports.period(period), reports.count(n)
        with self.store.reading() as session:
            return reports.top(session, kind, scope_kind, scope_id, key, n)

    @rpc
    def distribution(self, subject_kind, period):
        kind, key = reports.subject_kind(subject_kind), reports.period(period)
        with self.store.reading() as session:
            return reports.distribution(session, kind, key)

    # -- closings --------------------------------------------------------------------------------
    @rpc_write
    def close_month(self, period, closed_by=None, early=False):
        return self._close(reports.period(period, kinds=("month",)), "month_closed", closed_by, early)

    @rpc_write
    def close_quarter(self, period, closed_by=None, early=False):
        return self._close(reports.period(period, kinds=("quarter",)), "quarter_closed", closed_by, early)

    @rpc_write
    def close_year(self, year, closed_by=None, early=False):
        return self._close(reports.year(year), "year_closed", closed_by, early)

    def _close(self, key, event_type, closed_by, early):
        early = reports.flag(early, "early")
        if closed_by is not None:
            closed_by = reports.words(closed_by, "closed_by")
        with self.store.transaction() as session:
            payload = closings.close(session, self.rulebooks.books, key, closed_by,
                                     pipeline.now(), early=early)
            session.publish(event_type, payload)
        return reports.plain(payload)

    # -- consequences ----------------------------------------------------------------------------
    @rpc
    def award_priority(self, period):
        key = reports.period(period, kinds=("quarter", "year"))
        with self.store.reading() as session:
            return reports.award_priority(session, self.rulebooks.books, key)

    @rpc
    def unqualified_review(self, period):
        key = reports.period(period, kinds=("quarter", "year"))
        with self.store.reading() as session:
            return reports.unqualified_review(session, self.rulebooks.books, key)

    @rpc
    def subsidy_report(self, period, cadres=None):
        key = reports.period(period, kinds=("quarter", "year"))
        with self.store.reading() as session:
            return reports.subsidy_report(session, self.rulebooks.books, key, cadres)

    # -- sanctions -------------------------------------------------------------------------------
    @rpc_write
    def record_sanction(self, member_id, item, decided_on, reason, recorded_by):
        """Record a veto (否决项) or deduction (减星项) item against a member, decided by the
        county on ``decided_on``: publishes ``sanction_recorded``, which this service scores
        through its own subscription (the rulebook's rules on it decide the points)."""
        with self.store.transaction() as session:
            payload, details = reports.sanction(session, self.rulebooks.books, member_id, item,
                                                decided_on, reason, recorded_by, pipeline.now())
            event = session.publish("sanction_recorded", payload)
        return reports.plain({"event_id": event.id, **payload, **details})

    # -- re-scoring ------------------------------------------------------------------------------
    @rpc_write
    def rescore(self, period, reason, operator):
        key = reports.period(period)
        reason, operator = reports.words(reason, "reason", 500), reports.words(operator, "operator")
        with self.store.transaction() as session:
            summary, changes, taken = reports.rescore(session, self.rulebooks, key, reason,
                                                      operator, pipeline.now())
            pipeline.publish(session, changes, pipeline.Batch(cause="rescored"), taken)
        return reports.plain(summary)

    @staticmethod
    def _subject(subject_kind, subject_id, period):
        return (reports.subject_kind(subject_kind), reports.positive_id(subject_id, "subject_id"),
                reports.period(period))
