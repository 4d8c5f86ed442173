"""Organisation units and members as the tickets service learns them from the members service's
events (functions of a session). Handled in batches: the demo county's 20,000
``member_registered`` events cost one prefetch and one flush per 500."""
from __future__ import annotations

from sqlalchemy import select

from services.tickets.models import KnownMember, ServicePoint, Unit

UNIT_EVENTS = ("org_unit_created", "org_unit_changed")
MEMBER_EVENTS = ("member_registered", "member_transferred", "member_left")
BINDINGS = [("members", kind) for kind in UNIT_EVENTS + MEMBER_EVENTS]


def _by_id(session, model, ids) -> dict:
    found = {}
    ids = sorted(ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        found.update({row.id: row for row in session.scalars(select(model).where(model.id.in_(chunk)))})
    return found


def learn(session, events) -> dict:
    """Apply members' directory events in delivery order; returns counts of what changed."""
    unit_ids = {e.data["org_unit_id"] for e in events if e.type in UNIT_EVENTS}
    member_ids = {e.data["member_id"] for e in events if e.type in MEMBER_EVENTS}
    units = _by_id(session, Unit, unit_ids)
    members = _by_id(session, KnownMember, member_ids)
    changed_units = {}
    for event in events:
        data = event.data
        if event.type in UNIT_EVENTS:
            unit = units.get(data["org_unit_id"])
            if unit is None:
                unit = units[data["org_unit_id"]] = Unit(id=data["org_unit_id"])
                session.add(unit)
            unit.name, unit.kind = data["name"][:200], data["kind"]
            unit.parent_id, unit.township_id = data["parent_id"], data["township_id"]
            unit.dissolved = bool(data.get("dissolved", False))
            changed_units[unit.id] = unit
        elif event.type in MEMBER_EVENTS:
            member = members.get(data["member_id"])
            if member is None:
                member = members[data["member_id"]] = KnownMember(id=data["member_id"], name="")
                session.add(member)
            if "name" in data:
                member.name = data["name"][:200]
            member.branch_id, member.township_id = data["branch_id"], data["township_id"]
            member.category = data["category"]
            member.active = event.type != "member_left"
    _follow_units(session, changed_units)
    return {"units": len(changed_units), "members": len(member_ids)}


def _follow_units(session, units: dict):
    """A service point follows its unit: moved to another township, closed when dissolved."""
    if not units:
        return
    points = session.scalars(select(ServicePoint).where(ServicePoint.unit_id.in_(list(units))))
    for point in points:
        unit = units[point.unit_id]
        point.township_id = township_of(unit)
        if unit.dissolved:
            point.active = False


def township_of(unit: Unit) -> int | None:
    """The township (committee) a unit belongs to; a township committee is its own."""
    if unit.kind in ("township_committee", "street_committee"):
        return unit.id
    return unit.township_id



def subtree(session, unit_id: int, max_depth: int = 32) -> set[int]:
    """``unit_id`` and every unit under it, as far as the service knows the tree."""
    found, frontier = {unit_id}, {unit_id}
    for _ in range(max_depth):
        below = set(session.scalars(select(Unit.id).where(Unit.parent_id.in_(sorted(frontier)))))
        frontier = below - found
        if not frontier:
            break
        found |= frontier
    return found


def remember_units(session, rows) -> int:
    """Upsert units learned by RPC (the demo loader asks members directly): same values as the
    events carry, so a later event changes nothing."""
    units = _by_id(session, Unit, {row["id"] for row in rows})
    for row in rows:
        unit = units.get(row["id"]) or Unit(id=row["id"])
        unit.name, unit.kind = row["name"][:200], row["kind"]
        unit.parent_id, unit.township_id = row.get("parent_id"), row.get("township_id")
        unit.dissolved = bool(row.get("dissolved", False))
        session.add(unit)
    return len(rows)


def remember_members(session, rows) -> int:
    members = _by_id(session, KnownMember, {row["id"] for row in rows})
    for row in rows:
        member = members.get(row["id"]) or KnownMember(id=row["id"])
        member.name, member.branch_id = row["name"][:200], row["branch_id"]
        member.township_id, member.category = row.get("township_id"), row["category"]
        member.active = row.get("active", True)
        session.add(member)
    return len(rows)


def unit_dict(unit: Unit) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id,
            "township_id": unit.township_id, "dissolved": unit.dissolved}


def member_dict(member: KnownMember) -> dict:
    return {"id": member.id, "name": member.name, "branch_id": member.branch_id,
            "township_id": member.township_id, "category": member.category,
            "active": member.active}
