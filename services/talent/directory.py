"""The organisation units and members the talent service knows, learned from the members
service's events (``learn``) or, for the demo, from its RPC answers (``keep_units``,
``keep_members``); and the lookups the other modules make of them."""
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from services.talent.models import Member, Unit
from shared.errors import InvalidInput, NotFound

UNIT_EVENTS = ("org_unit_created", "org_unit_changed")
MEMBER_EVENTS = ("member_registered", "member_transferred", "member_left", "member_status_changed")
TOWNSHIP_KINDS = ("township_committee", "street_committee")


def bindings(config=None) -> list[tuple[str, str]]:
    """What the directory subscription hears (``@subscribe_batch(bindings_from=...)``)."""
    return [("members", event_type) for event_type in UNIT_EVENTS + MEMBER_EVENTS]


def upsert(session, model, rows, columns):
    """Insert ``rows`` of ``model``, or update ``columns`` of the rows already there."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model.__table__)
    session.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={column: statement.excluded[column] for column in columns}),
        sorted(rows, key=lambda row: row["id"]))   # one lock order for concurrent upserts


def learn(session, events):
    """Apply a batch of the members service's directory events, in delivery order."""
    for event in events:
        data = event.data
        if event.type in UNIT_EVENTS:
            keep_units(session, [{"id": data["org_unit_id"], "parent_id": data["parent_id"],
                                  "township_id": data["township_id"], "kind": data["kind"],
                                  "name": data["name"][:100],
                                  "dissolved": bool(data.get("dissolved"))}])
        elif event.type == "member_registered":
            keep_members(session, [{"id": data["member_id"], "name": data["name"][:50],
                                    "branch_id": data["branch_id"],
                                    "township_id": data["township_id"],
                                    "category": data["category"], "status": data["status"],
                                    "active": True}])
        else:
            _member_changed(session, event.type, data)


def _member_changed(session, event_type, data):
    place = {"branch_id": data["branch_id"], "township_id": data["township_id"],
             "category": data["category"]}
    if event_type == "member_left":
        place["active"] = False
    if event_type == "member_status_changed":
        place["status"] = data["status"]
    row = {"id": data["member_id"], "name": None, "status": None, "active": True, **place}
    upsert(session, Member, [row], list(place))


def keep_units(session, rows):
    upsert(session, Unit, rows, ["parent_id", "township_id", "kind", "name", "dissolved"])


def keep_members(session, rows):
    upsert(session, Member, rows, ["name", "branch_id", "township_id", "category", "status",
                                   "active"])


# -- lookups -------------------------------------------------------------------------------------

def unit(session, unit_id, field) -> Unit:
    found = session.get(Unit, unit_id)
    if found is None:
        raise NotFound(f"{field} {unit_id}: no such organisation unit is known to talent (it "
                       f"learns them from the members service's events)")
    return found


def township(session, township_id, field="township_id") -> Unit:
    found = unit(session, township_id, field)
    if found.kind not in TOWNSHIP_KINDS:
        raise InvalidInput({field: [f"unit {township_id} is a {found.kind}, not a township or "
                                    f"street committee"]})
    return found


def village(session, village_id, field="village_id") -> Unit:
    found = unit(session, village_id, field)
    if found.kind != "village_branch":
        raise InvalidInput({field: [f"unit {village_id} is a {found.kind}, not a village branch"]})
    return found


def member(session, member_id, field="member_id") -> Member:
    found = session.get(Member, member_id)
    if found is None:
        raise NotFound(f"{field} {member_id}: no such member is known to talent yet (it learns "
                       f"members from the members service's events; try again shortly)")
    return found



def subtree(session, unit_id, max_depth=32) -> list[int]:
    """``unit_id`` and every unit under it as far as talent knows the tree, sorted (what a
    list's ``unit_id`` filter covers)."""
    found, frontier = {unit_id}, {unit_id}
    for _ in range(max_depth):
        frontier = set(session.scalars(select(Unit.id).where(
            Unit.parent_id.in_(sorted(frontier))))) - found
        if not frontier:
            break
        found |= frontier
    return sorted(found)


def names(session, unit_ids) -> dict[int, str]:
    ids = {i for i in unit_ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())


def villages(session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.kind == "village_branch",
                                                   Unit.dissolved.is_(False)).order_by(Unit.id)))
