"""The subjects directory: who belongs where, fed by members' events.

A member row knows its branch, township and category; a branch row its township and kind
(village, community, institution, nonpublic); a committee row is a township/street committee (its
id is the township id). Events arrive on several queues, so their order is not guaranteed: each
row remembers the ``occurred_at`` of the event that last placed it (``place_as_of``) and an older
event never overwrites a newer place. Scored events carry the member's place too (members'
payloads do): a subject first seen in a scored event gets a row from it (``place_as_of`` empty,
so any directory event overrides it).

"Active" subjects are the ones ranked and rolled up: a member who left, a dissolved unit is
inactive; its ledger and history stay.
"""
from __future__ import annotations

from datetime import datetime, timezone

import eventlet

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from services.stars.models import Subject

subjects = Subject.__table__
COMMITTEE_KINDS = ("township_committee", "street_committee")
BRANCH_KIND_OF_UNIT = {"village_branch": "village", "community_branch": "community",
                       "institution_branch": "institution", "nonpublic_branch": "nonpublic"}
BRANCH_KIND_OF_CATEGORY = {"rural": "village", "community": "community",
                           "institution": "institution", "nonpublic": "nonpublic"}


def dialect_insert(session, table):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql"
            else sqlite.insert)(table)


def _moment(text):
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_LOOKUP = select(subjects).where(subjects.c.kind == bindparam("kind"),
                                 subjects.c.id.in_(bindparam("ids", expanding=True)))


def per_kind(session, statement, keys, chunk=2000, **params):
    """Run ``statement`` (bound ``kind`` and expanding ``ids``) for ``(kind, id)`` keys, one
    simple ``IN`` per kind and chunk (cheaper to plan and bind than a tuple ``IN``)."""
    ids_of: dict = {}
    for kind, subject_id in keys:
        ids_of.setdefault(kind, set()).add(subject_id)
    for kind, ids in sorted(ids_of.items()):
        ids = sorted(ids)
        for start in range(0, len(ids), chunk):
            yield from session.execute(statement, {"kind": kind, "ids": ids[start:start + chunk],
                                                   **params})


def lookup(session, keys) -> dict[tuple, dict]:
    """Directory rows for ``(kind, id)`` keys, as dicts keyed the same way."""
    return {(row.kind, row.id): dict(row._mapping) for row in per_kind(session, _LOOKUP, keys)}


def get(session, kind, subject_id) -> dict | None:
    return lookup(session, [(kind, subject_id)]).get((kind, subject_id))


def _stub(kind, subject_id, **values):
    return {"kind": kind, "id": subject_id, "name": None, "branch_id": None, "township_id": None,
            "category": None, "unit_kind": None, "active": True, "place_as_of": None, **values}


def stubs_for(known, keys, payload) -> list[dict]:
    """Directory rows to create for ``keys`` (and the units above a member named in the payload)
    that ``known`` (a set of keys) lacks: placed from the payload when it carries the place, as
    members' events do; ``place_as_of`` empty, so any directory event overrides them."""
    branch_id, township_id = _int(payload.get("branch_id")), _int(payload.get("township_id"))
    category = payload.get("category") if isinstance(payload.get("category"), str) else None
    wanted = set(keys)
    if branch_id is not None:
        wanted.add(("branch", branch_id))
    if township_id is not None:
        wanted.add(("committee", township_id))
    stubs = []
    for kind, subject_id in sorted(wanted - set(known)):
        if kind == "member":
            placed = payload.get("member_id") == subject_id
            stubs.append(_stub(kind, subject_id, branch_id=branch_id if placed else None,
                               township_id=township_id if placed else None,
                               category=category if placed else None))
        elif kind == "branch":
            stubs.append(_stub(kind, subject_id,
                               township_id=township_id if subject_id == branch_id else None,
                               unit_kind=BRANCH_KIND_OF_CATEGORY.get(category)
                               if subject_id == branch_id else None))
        else:
            stubs.append(_stub(kind, subject_id, township_id=subject_id))
    return stubs


def insert_stubs(session, stubs):
    if stubs:
        session.execute(dialect_insert(session, subjects).on_conflict_do_nothing(), stubs)


def _int(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def place_many(session, placements) -> list[tuple]:
    """Apply placements ``(kind, id, values, occurred_at, force)`` in order, each unless a newer
    event already placed the subject (``force``: apply anyway, keeping the newer stamp; for a
    departure, which is final). Written in two statements. Returns ``(key, row before or None,
    row after, occurred_at)`` per applied placement."""
    if not placements:
        return []
    state = lookup(session, {(kind, subject_id) for kind, subject_id, *_ in placements})
    original = {key: dict(row) for key, row in state.items()}
    applied = []
    for kind, subject_id, values, occurred_at, force in placements:
        key = (kind, subject_id)
        before = state.get(key)
        if before is None:
            row = {**_stub(kind, subject_id), **values, "place_as_of": occurred_at}
        else:
            previous, current = _moment(before["place_as_of"]), _moment(occurred_at)
            newer_known = previous is not None and current is not None and previous > current
            if newer_known and not force:
                continue
            row = {**before, **values,
                   "place_as_of": before["place_as_of"] if newer_known else occurred_at}
        state[key] = row
        applied.append((key, before, row, occurred_at))
    inserted = [state[key] for key in sorted(set(state) - set(original))]
    changed = [state[key] for key in sorted(original) if state[key] != original[key]]
    if inserted:
        session.execute(dialect_insert(session, subjects).on_conflict_do_nothing(), inserted)
    if changed:
        session.execute(update(subjects).where(
            subjects.c.kind == bindparam("k"), subjects.c.id == bindparam("i")).values(
            **{name: bindparam(f"v_{name}") for name in PLACE_COLUMNS}),
            [{"k": row["kind"], "i": row["id"], **{f"v_{name}": row[name] for name in PLACE_COLUMNS}}
             for row in changed])
    return applied


PLACE_COLUMNS = ("name", "branch_id", "township_id", "category", "unit_kind", "active",
                 "place_as_of")


def move_branch_members(session, branch_id, township_id) -> list[tuple]:
    """A branch moved to another township: its members' rows follow. Returns
    ``(key, row before, row after)`` per member."""
    before = [dict(row._mapping) for row in session.execute(select(subjects).where(
        subjects.c.kind == "member", subjects.c.branch_id == branch_id))]
    session.execute(update(subjects).where(subjects.c.kind == "member",
                                           subjects.c.branch_id == branch_id)
                    .values(township_id=township_id))
    return [(("member", row["id"]), row, {**row, "township_id": township_id}) for row in before]


def unit_values(data) -> tuple[str, dict] | None:
    """``(subject kind, row values)`` for an org unit event; None for the city committee."""
    kind = data["kind"]
    active = not data.get("dissolved", False)
    if kind in COMMITTEE_KINDS:
        return "committee", {"name": data["name"], "township_id": data["org_unit_id"],
                             "unit_kind": kind, "active": active}
    if kind in BRANCH_KIND_OF_UNIT:
        return "branch", {"name": data["name"], "township_id": data["township_id"],
                          "unit_kind": BRANCH_KIND_OF_UNIT[kind], "active": active}
    return None


def member_values(data, active=True) -> dict:
    values = {"branch_id": data["branch_id"], "township_id": data["township_id"],
              "category": data["category"], "active": active}
    if data.get("name"):
        values["name"] = data["name"]
    return values


def active_tree(session):
    """(members_of: branch -> member ids, branches_of: township -> branch ids, rows by key) of
    every active subject."""
    members_of, branches, rows = {}, {}, {}
    for number, row in enumerate(session.execute(select(subjects).where(subjects.c.active.is_(True)))):
        if number % 500 == 499:
            eventlet.sleep(0)
        data = dict(row._mapping)
        rows[(row.kind, row.id)] = data
        if row.kind == "member" and row.branch_id is not None:
            members_of.setdefault(row.branch_id, []).append(row.id)
        elif row.kind == "branch" and row.township_id is not None:
            branches.setdefault(row.township_id, []).append(row.id)
    return members_of, branches, rows
