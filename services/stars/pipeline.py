"""What the service does with an event, inside the handler's transaction (inbox claim + work +
outgoing events commit together).

Scored event -> ledger rows (rulebook in force on the date of the fact) -> standings of the
credited subjects and of the branches and committees above them -> ``score_changed`` per changed
subject, ``star_level_changed`` when its provisional (quarter) level moved, ``ranking_changed`` per
scope where its place moved. A revocation compensates the revoked event's rows and does the same.
Directory events (members' org-unit and member events) update ``subjects`` and refresh the
roll-ups of the units a member joined or left.
"""
from __future__ import annotations

import logging

from sqlalchemy import bindparam, select, update

from services.stars import books as books_module
from services.stars import closings, directory, ledger, periods, standings

log = logging.getLogger(__name__)


_STATUS = select(  # is the event's year archived, was the event revoked before it came
    select(closings.closings.c.period).where(closings.closings.c.period == bindparam("year")).exists(),
    select(ledger.revocations.c.revoked_event_id).where(
        ledger.revocations.c.revoked_event_id == bindparam("event_id")).exists())


def _day_of(event, settings):
    return books_module.date_of_fact(event.data, event.occurred_at, settings["date_fields"])


def publish_changes(session, result, day, cause_of, source_event_id, top_n):
    for change in result.changes:
        session.publish("score_changed", standings.score_changed_payload(
            change, day, cause_of(change), source_event_id))
        moved = standings.level_changed_payload(change)
        if moved:
            session.publish("star_level_changed", moved)
    for payload in standings.ranking_changes(session, result.changes, top_n):
        session.publish("ranking_changed", payload)


def score_in_stages(session, books, event, entries, keys, rows, stubs, day, cause_of,
                    source_event_id, top_n):
    """Book ``entries`` and recompute what they change, in two steps, each under its locks
    (PostgreSQL; see ``standings``): the branches touched (missing member/branch directory rows,
    the ledger rows, members' and branches' month totals and standings, their events), then,
    only if a committee can have changed (credited, or a branch change that matters to its
    roll-up), the townships (committee rows, month totals, standings, events)."""
    lower = [e for e in entries if e["subject_kind"] != "committee"]
    upper = [e for e in entries if e["subject_kind"] == "committee"]
    work = standings.Refresh(session, books, keys, day, known=rows)
    ledger.append(session, entries, event_id=event.id, source=event.source, type_=event.type,
                  recorded_at=ledger.now(), months=False)  # no shared row: before any lock
    standings.lock_branches(session, work.branch_ids | {
        s["id"] for s in stubs if s["kind"] == "branch"} | {
        None for key in work.members if work.rows.get(key, {}).get("branch_id") is None})
    directory.insert_stubs(session, [s for s in stubs if s["kind"] != "committee"])
    ledger.add_to_months(session, lower)
    result = work.lower()
    publish_changes(session, result, day, cause_of, source_event_id, top_n)
    committee_stubs = [s for s in stubs if s["kind"] == "committee"]
    due = work.committees_due(result, {e["subject_id"] for e in upper})
    if due or committee_stubs:
        standings.lock_townships(session, due | {s["id"] for s in committee_stubs})
        directory.insert_stubs(session, committee_stubs)
        ledger.add_to_months(session, upper)
        publish_changes(session, work.upper(due), day, cause_of, source_event_id, top_n)


def scored_event(session, rulebooks, event):
    """Any event a rule listens to (and ``members.activity_revoked``)."""
    settings = rulebooks.settings
    books = rulebooks.books
    top_n = int(settings["ranking_top_n"])
    standings.lock_shared(session)
    if (event.source, event.type) == books_module.REVOKED:
        revoked_id = event.data["revoked_event_id"]
        entries = ledger.revocation(session, event, revoked_id, event.data.get("reason"),
                                    closings.closed_periods(session, "year"))
        if entries:
            keys = {(e["subject_kind"], e["subject_id"]) for e in entries}
            score_in_stages(session, books, event, entries, keys, directory.lookup(session, keys),
                            (), entries[0]["occurred_on"],
                            lambda change: "revoked" if (change.kind, change.id) in keys
                            else "rolled_up", revoked_id, top_n)
    day = _day_of(event, settings)
    archived, revoked = session.execute(_STATUS, {"year": periods.year_key(day),
                                                  "event_id": event.id}).one()
    if archived:
        log.warning("%s.%s %s is dated %s, in an archived year: kept, not scored", event.source,
                    event.type, event.id, day)
        ledger.remember_event(session, event, day, ledger.ARCHIVED)
        return
    if revoked:
        ledger.remember_event(session, event, day, ledger.REVOKED)
        return
    book = books_module.in_force(books, day)
    entries = ledger.entries_for(book, event.source, event.type, event.data, day) if book else []
    if not ledger.remember_event(session, event, day, ledger.SCORED) or not entries:
        return
    keys = {(e["subject_kind"], e["subject_id"]) for e in entries}
    known, stubs = directory.plan_stubs(session, keys, event.data)
    rows = {**known, **{(s["kind"], s["id"]): s for s in stubs}}
    score_in_stages(session, books, event, entries, keys, rows, stubs, day,
                    lambda change: "scored" if (change.kind, change.id) in keys else "rolled_up",
                    event.id, top_n)


def _refresh_units(session, rulebooks, event, keys, townships):
    day = periods.local_date(event.occurred_at)
    result = standings.refresh(session, rulebooks.books, keys, day, before_committees=lambda ids:
                               standings.lock_townships(session, set(ids) | townships))
    publish_changes(session, result, day, lambda change: "directory", None,
                    int(rulebooks.settings["ranking_top_n"]))


def member_placed(session, rulebooks, event, active=True):
    """member_registered / member_transferred / member_left: place the member, then refresh the
    roll-ups of the branch it joined and of the one it left."""
    data = event.data
    member_id = data["member_id"]
    before = directory.get(session, "member", member_id)
    keys = {("member", member_id), ("branch", data["branch_id"])}
    townships = {data["township_id"]}
    if before and before["branch_id"] is not None:
        keys.add(("branch", before["branch_id"]))
        townships.add(before["township_id"])
    standings.lock_branches(session, {key[1] for key in keys if key[0] == "branch"})
    _, applied = directory.place(session, "member", member_id, directory.member_values(data, active),
                                 event.occurred_at, force=not active)
    if applied:
        standings.sync_place(session, "member", member_id)
        _refresh_units(session, rulebooks, event, keys, townships - {None})


def unit_changed(session, rulebooks, event):
    """org_unit_created / org_unit_changed (renamed, moved, dissolved)."""
    data = event.data
    found = directory.unit_values(data)
    if found is None:
        return
    kind, values = found
    unit_id = data["org_unit_id"]
    before = directory.get(session, kind, unit_id)
    keys = {(kind, unit_id)}
    townships = {values.get("township_id")}
    if kind == "committee":
        standings.lock_townships(session, {unit_id})
    if kind == "branch":
        standings.lock_branches(session, {unit_id})
        if before and before["township_id"] is not None:
            keys.add(("committee", before["township_id"]))
            townships.add(before["township_id"])
    _, applied = directory.place(session, kind, unit_id, values, event.occurred_at)
    if not applied:
        return
    standings.sync_place(session, kind, unit_id)
    if kind == "branch" and before and before["township_id"] != values["township_id"]:
        session.execute(update(directory.subjects).where(
            directory.subjects.c.kind == "member", directory.subjects.c.branch_id == unit_id)
            .values(township_id=values["township_id"]))
        standings.move_branch_members(session, unit_id, values["township_id"])
    _refresh_units(session, rulebooks, event, keys, townships - {None})
