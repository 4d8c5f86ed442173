"""What the service does with a batch of events, inside one transaction (the inbox claims, the
work and the outgoing events commit together).

1. Directory events (members' org-unit and member events) place subjects in ``subjects``, in
   the order they happened; the units a member joined or left are marked for recompute.
2. Revocations are remembered; an event they name is compensated if it was scored, or will earn
   nothing when it comes (in this batch or later): an activity and its revocation net to zero in
   any order.
3. Scored events are kept (``scored_events``) and earn ledger rows by the rulebook in force on
   the date of the fact; events dated in an archived year are kept, not scored.
4. The ledger rows and month totals are appended in bulk, every touched subject and the units
   above it are recomputed once (``recompute``), and one ``score_changed`` per changed subject,
   ``star_level_changed`` and ``ranking_changed`` are published.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timezone
from functools import partial

from services.stars import books as books_module
from services.stars import (boards, closings, directory, figures, ledger, payloads, periods,
                            ranks, recompute, unit_locks)
from shared.contracts.envelope import partition_key

log = logging.getLogger(__name__)

MEMBER_PLACED = {("members", "member_registered"), ("members", "member_transferred"),
                 ("members", "member_left")}
UNIT_CHANGED = {("members", "org_unit_created"), ("members", "org_unit_changed")}
DIRECTORY = set(books_module.DIRECTORY)


def now():
    return datetime.now(timezone.utc)


class Batch:
    """What one batch touched: ``touched`` (``(subject, date of a fact behind it)`` pairs), the
    cause of each direct change and the events behind it."""

    def __init__(self, cause="rolled_up"):
        self.touched: set[tuple] = set()
        self.default_cause = cause
        self.cause: dict[tuple, str] = {}
        self.sources: dict[tuple, list] = defaultdict(list)

    def touch(self, key, day, cause=None, event_id=None):
        self.touched.add((key, periods.as_date(day)))
        if cause is not None and self.cause.get(key) != "scored":
            self.cause[key] = cause
        if event_id is not None:
            self.sources[key].append(event_id)

    def cause_of(self, key) -> str:
        return self.cause.get(key, self.default_cause)


def absorb(session, rulebooks, events, stamp=None):
    """Handle a batch of fresh (never handled) events; see the module docstring."""
    stamp = stamp or now()
    batch = Batch()
    kinds = defaultdict(list)
    for event in events:
        pair = (event.source, event.type)
        kinds["directory" if pair in DIRECTORY else
              "revocation" if pair == books_module.REVOKED else "scored"].append(event)
    unit_locks.lock(session, {partition_key(event) for event in events})
    counts = ranks.Counts()
    place(session, kinds["directory"], batch, counts)
    revoked_now = revoke(session, kinds["revocation"], {e.id for e in kinds["scored"]}, batch,
                         stamp)
    score(session, rulebooks, kinds["scored"], revoked_now, batch, stamp, counts)
    taken = boards.Boards(session, int(rulebooks.settings["ranking_top_n"]))
    changes = recompute.recompute(session, rulebooks.books, batch.touched, stamp, taken, counts)
    counts.write(session)
    publish(session, changes, batch, taken)
    return changes


# -- directory -----------------------------------------------------------------------------------

def place(session, events, batch, counts):
    placements = []
    for event in sorted(events, key=lambda e: e.occurred_at):
        data = event.data
        if (event.source, event.type) in MEMBER_PLACED:
            left = event.type == "member_left"
            placements.append(("member", data["member_id"],
                               directory.member_values(data, active=not left),
                               event.occurred_at, left))
        else:
            found = directory.unit_values(data)
            if found is not None:
                placements.append((found[0], data["org_unit_id"], found[1], event.occurred_at, False))
    applied = directory.place_many(session, placements)
    moves = [(key, before, after) for key, before, after, _ in applied]
    for key, before, after, occurred_at in applied:
        day = periods.local_date(occurred_at)
        for unit in _units_around(key, before, after):
            batch.touch(unit, day, "directory")
        if key[0] == "branch" and before and before["township_id"] != after["township_id"]:
            moves += directory.move_branch_members(session, key[1], after["township_id"])
    counts.directory_moves([(key[0], key[1], _place(before), _place(after))
                            for key, before, after in moves])
    moved = figures.sync_places(session, {key: after for key, before, after in moves
                                          if before is not None})
    counts.standing_moves([
        (kind, subject_id, period, _entry(figure, old), _entry(figure, new))
        for kind, subject_id, period, figure, old, new in moved])


def _place(row):
    return None if row is None else ranks.Place(row.get("branch_id"), row.get("township_id"),
                                                 bool(row.get("active", True)))


def _entry(figure, place):
    """A standing figure at a place (``figures.place_of``) as ``ranks.Entry``; None: no row."""
    if figure is None or not figure.exists:
        return None
    return ranks.Entry(figure.level, figure.score, figure.reached_at, place["branch_id"],
                       place["township_id"], place["active"])


def _units_around(key, before, after):
    """The subjects to recompute after ``key`` was placed: the units it joined and left."""
    kind = key[0]
    units = {key}
    for row in (before, after):
        if not row:
            continue
        if kind == "member" and row.get("branch_id") is not None:
            units.add(("branch", row["branch_id"]))
        if kind in ("member", "branch") and row.get("township_id") is not None:
            units.add(("committee", row["township_id"]))
    return units


# -- revocations ---------------------------------------------------------------------------------

def revoke(session, events, batch_ids, batch, stamp) -> set[str]:
    """Remember the revocations and compensate what they name; returns the ids of this batch's
    scored events that are revoked (they will earn nothing)."""
    if not events:
        return set()
    ledger.record_revocations(session, events)
    revoking = {e.data["revoked_event_id"]: e for e in events}
    in_batch = set(revoking) & batch_ids
    waiting = ledger.wait_for_events(
        session, [e for target, e in revoking.items() if target not in in_batch],
        lambda e: periods.local_date(e.occurred_at))
    archived = closings.closed_periods(session, "year")
    stored = ledger.stored_status(session, set(revoking) - in_batch - waiting)
    due = ledger.mark_revoked(session, {
        event_id for event_id, (status, day) in stored.items()
        if status == ledger.SCORED and periods.year_key(day) not in archived})
    compensations = []
    rows = ledger.live_rows_of(session, due)
    for row, reverse in zip(rows, ledger.compensations_for(rows)):
        revocation = revoking[row["source_event_id"]]
        reverse.update(source_event_id=revocation.id, source=revocation.source,
                       type=revocation.type)
        compensations.append(reverse)
        batch.touch((reverse["subject_kind"], reverse["subject_id"]), reverse["occurred_on"],
                    "revoked", revocation.data["revoked_event_id"])
    ledger.append(session, compensations, recorded_at=stamp)
    return in_batch


# -- scored events -------------------------------------------------------------------------------

def score(session, rulebooks, events, revoked_now, batch, stamp, counts):
    if not events:
        return
    settings, books = rulebooks.settings, rulebooks.books
    archived = closings.closed_periods(session, "year")
    revoked = revoked_now | ledger.revoked_among(session, {e.id for e in events})
    kept, earned = [], {}
    for event in events:
        day = books_module.date_of_fact(event.data, event.occurred_at, settings["date_fields"])
        if periods.year_key(day) in archived:
            log.warning("%s.%s %s is dated %s, in an archived year: kept, not scored",
                        event.source, event.type, event.id, day)
            kept.append(ledger.event_row(event, day, ledger.ARCHIVED))
        elif event.id in revoked:
            kept.append(ledger.event_row(event, day, ledger.REVOKED))
        else:
            kept.append(ledger.event_row(event, day, ledger.SCORED))
            book = books_module.in_force(books, day)
            earned[event.id] = (event, ledger.entries_for(book, event.source, event.type,
                                                          event.data, day) if book else [])
    new = ledger.remember_events(session, kept)
    ledger.claim_early(session, [row for row in kept if row["event_id"] not in new])
    entries, wanted = [], set()
    for event_id, (event, found) in earned.items():
        if event_id in new:
            wanted |= {(e["subject_kind"], e["subject_id"]) for e in found}
            wanted |= _payload_units(event.data)
    known_keys = set(directory.lookup(session, wanted))
    stubs = []
    for event_id, (event, found) in earned.items():
        if event_id not in new or not found:
            continue
        keys = {(e["subject_kind"], e["subject_id"]) for e in found}
        missing = directory.stubs_for(known_keys, keys, event.data)
        known_keys |= {(s["kind"], s["id"]) for s in missing}
        stubs += missing
        for entry in found:
            entry["source_event_id"] = event.id
            entries.append(entry)
            batch.touch((entry["subject_kind"], entry["subject_id"]), entry["occurred_on"],
                        "scored", event.id)
    directory.insert_stubs(session, stubs)
    counts.directory_moves([(stub["kind"], stub["id"], None, _place(stub)) for stub in stubs])
    ledger.append(session, entries, recorded_at=stamp)


def _payload_units(data) -> set:
    units = set()
    for kind, field in (("branch", "branch_id"), ("committee", "township_id")):
        value = directory._int(data.get(field))
        if value is not None:
            units.add((kind, value))
    return units


# -- outgoing events -----------------------------------------------------------------------------

def publish(session, changes, batch, taken):
    outgoing = []
    for change in changes:
        key = (change.kind, change.id)
        outgoing.append(("score_changed", payloads.score_changed(
            change, batch.cause_of(key), batch.sources.get(key, ()))))
        moved = payloads.level_changed(change)
        if moved:
            outgoing.append(("star_level_changed", moved))
    outgoing += [("ranking_changed", payload) for payload in boards.ranking_changes(
        session, taken, changes, partial(_rank_of, session))]
    session.publish_many(outgoing, validate="first")


def _rank_of(session, kind, subject_id, period_key, scope_kind, branch_id, township_id, figure):
    place = {"branch_id": branch_id, "township_id": township_id, "active": True}
    return ranks.rank_of(session, kind, subject_id, period_key, scope_kind, branch_id,
                         township_id, _entry(figure, place))

