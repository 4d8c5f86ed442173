"""Reads and writes of the members service on a session, with the events each write publishes.

Functions take a ``BusSession`` (from ``Store.transaction``) and validated input; they raise
``NotFound`` / ``Conflict`` / ``InvalidInput`` before writing anything they would refuse.
"""
from datetime import date, datetime, timezone

from sqlalchemy import func, select

from services.members import development, orgtree, resident_id
from services.members.models import (Activity, Candidate, DevelopmentStep, Member, Movement,
                                     OrgUnit, Project, Team)
from shared import inputs
from shared.errors import Conflict, InvalidInput, NotFound

TOWNSHIP_KINDS = ("township_committee", "street_committee")
KIND_SPECIFIC = ("hours", "team_id", "project", "meeting_kind", "attended", "amount", "households")


def now():
    return datetime.now(timezone.utc)


def _get(session, model, ident, field):
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"{model.__name__} {ident} does not exist ({field})")
    return row


# -- organisation tree -------------------------------------------------------------------------

def unit_dict(unit: OrgUnit) -> dict:
    return {"id": unit.id, "parent_id": unit.parent_id, "township_id": unit.township_id,
            "kind": unit.kind, "name": unit.name,
            "dissolved_on": unit.dissolved_on.isoformat() if unit.dissolved_on else None}


def unit_event(unit: OrgUnit) -> dict:
    return {"org_unit_id": unit.id, "parent_id": unit.parent_id, "township_id": unit.township_id,
            "kind": unit.kind, "name": unit.name}


def _active_unit(session, unit_id, field):
    unit = _get(session, OrgUnit, unit_id, field)
    if unit.dissolved_on is not None:
        raise InvalidInput({field: [f"unit {unit_id} was dissolved on {unit.dissolved_on}"]})
    return unit


def _township_of(unit: OrgUnit, parent: OrgUnit | None):
    if unit.kind in TOWNSHIP_KINDS:
        return unit.id
    return parent.township_id if parent is not None else None


def create_unit(session, data: dict) -> OrgUnit:
    parent = _active_unit(session, data["parent_id"], "parent_id") if data["parent_id"] else None
    orgtree.check_parent(data["kind"], parent.kind if parent else None)
    if parent is None and session.scalar(select(func.count()).select_from(OrgUnit)
                                         .where(OrgUnit.parent_id.is_(None))):
        raise InvalidInput({"parent_id": ["the county already has its city committee; "
                                          "name the parent unit"]})
    _unique_name(session, data["parent_id"], data["name"])
    unit = OrgUnit(parent_id=data["parent_id"], kind=data["kind"], name=data["name"],
                   created_at=now())
    session.add(unit)
    session.flush()
    unit.township_id = _township_of(unit, parent)
    session.publish("org_unit_created", unit_event(unit))
    return unit


def _unique_name(session, parent_id, name, except_id=None):
    query = select(OrgUnit.id).where(OrgUnit.name == name, OrgUnit.parent_id.is_(None)
                                     if parent_id is None else OrgUnit.parent_id == parent_id)
    found = session.scalar(query)
    if found is not None and found != except_id:
        raise InvalidInput({"name": [f"unit {found} under the same parent already has this name"]})


def rename_unit(session, unit_id, name) -> OrgUnit:
    unit = _active_unit(session, unit_id, "unit_id")
    _unique_name(session, unit.parent_id, name, except_id=unit.id)
    unit.name = name
    session.publish("org_unit_changed", {**unit_event(unit), "dissolved": False, "change": "renamed"})
    return unit


def ancestors(session, unit_id) -> list[int]:
    found, current = [], unit_id
    while current is not None and len(found) < 64:
        found.append(current)
        current = session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == current))
    return found


def move_unit(session, unit_id, parent_id) -> OrgUnit:
    unit = _active_unit(session, unit_id, "unit_id")
    parent = _active_unit(session, parent_id, "parent_id")
    orgtree.check_move(unit.id, parent.id, ancestors(session, parent.id))
    orgtree.check_parent(unit.kind, parent.kind)
    _unique_name(session, parent.id, unit.name, except_id=unit.id)
    unit.parent_id = parent.id
    unit.township_id = _township_of(unit, parent)
    for descendant_id in orgtree.subtree(all_units(session), unit.id)[1:]:
        child = session.get(OrgUnit, descendant_id)
        if child.kind not in TOWNSHIP_KINDS:
            child.township_id = unit.township_id
    session.publish("org_unit_changed", {**unit_event(unit), "dissolved": False, "change": "moved"})
    return unit


def dissolve_unit(session, unit_id, on: date) -> OrgUnit:
    unit = _active_unit(session, unit_id, "unit_id")
    members = session.scalar(select(func.count()).select_from(Member).where(
        Member.branch_id == unit.id, Member.state != "left"))
    children = session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.parent_id == unit.id, OrgUnit.dissolved_on.is_(None)))
    orgtree.check_dissolve(members, children)
    unit.dissolved_on = on
    session.publish("org_unit_changed", {**unit_event(unit), "dissolved": True, "change": "dissolved"})
    return unit


def all_units(session) -> list[dict]:
    return [{"id": row.id, "parent_id": row.parent_id}
            for row in session.execute(select(OrgUnit.id, OrgUnit.parent_id))]


def subtree(session, root_id, include_dissolved=False) -> list[dict]:
    _get(session, OrgUnit, root_id, "root_id")
    ids = orgtree.subtree(all_units(session), root_id)
    order = {ident: position for position, ident in enumerate(ids)}
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids))).all()
    if not include_dissolved:
        units = [u for u in units if u.dissolved_on is None]
    return [unit_dict(u) for u in sorted(units, key=lambda u: order[u.id])]


# -- members -----------------------------------------------------------------------------------

def member_dict(member: Member, reveal_id: bool) -> dict:
    return {"id": member.id, "branch_id": member.branch_id, "name": member.name,
            "gender": member.gender, "ethnicity": member.ethnicity,
            "birth_date": member.birth_date.isoformat(),
            "resident_id": member.resident_id if reveal_id else resident_id.mask(member.resident_id),
            "phone": member.phone, "education": member.education,
            "join_date": member.join_date.isoformat(), "status": member.status,
            "household_plaque": member.household_plaque, "category": member.category,
            "state": member.state, "left_reason": member.left_reason,
            "left_on": member.left_on.isoformat() if member.left_on else None}


def member_place(member: Member, branch: OrgUnit) -> dict:
    return {"member_id": member.id, "branch_id": branch.id, "township_id": branch.township_id,
            "category": member.category}


def _branch(session, branch_id, field="branch_id") -> OrgUnit:
    branch = _active_unit(session, branch_id, field)
    if not orgtree.is_branch(branch.kind):
        raise InvalidInput({field: [f"unit {branch_id} is a {branch.kind}, not a branch"]})
    return branch


def register_member(session, data: dict) -> Member:
    branch = _branch(session, data["branch_id"])
    existing = session.scalar(select(Member.id).where(Member.resident_id == data["resident_id"]))
    if existing is not None:
        raise InvalidInput({"resident_id": [f"already registered (member {existing})"]})
    return add_members(session, branch, [data])[0]


def add_members(session, branch: OrgUnit, people: list[dict]) -> list[Member]:
    """Insert ``people`` (loaded ``MemberInput``, resident IDs known to be new) into ``branch``
    and publish ``member_registered`` for each: one flush and one outbox statement, however
    many they are (a roster sheet)."""
    members = [Member(**data, category=orgtree.category_of(branch.kind), state="active",
                      created_at=now()) for data in people]
    session.add_all(members)
    session.flush()
    session.publish_many([("member_registered", {
        **member_place(member, branch), "name": member.name, "status": member.status,
        "join_date": member.join_date.isoformat()}) for member in members], validate="first")
    return members


def registered_resident_ids(session, numbers) -> dict[str, int]:
    """``{resident_id: member_id}`` of the ``numbers`` that members already have."""
    numbers, found = sorted(set(numbers)), {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        found.update((number, ident) for number, ident in session.execute(
            select(Member.resident_id, Member.id).where(Member.resident_id.in_(chunk))))
    return found


def active_member(session, member_id, field="member_id") -> Member:
    member = _get(session, Member, member_id, field)
    if member.state == "left":
        raise Conflict(f"member {member_id} left on {member.left_on} ({member.left_reason}); "
                       "the record is kept but cannot change")
    return member


def transfer_member(session, data: dict) -> Member:
    member = active_member(session, data["member_id"])
    target = _branch(session, data["to_branch_id"], "to_branch_id")
    if target.id == member.branch_id:
        raise InvalidInput({"to_branch_id": ["the member already belongs to this branch"]})
    if data["on"] < member.join_date:
        raise InvalidInput({"on": ["is before the member joined"]})
    source = member.branch_id
    member.branch_id = target.id
    member.category = orgtree.category_of(target.kind)
    member.state = "flowed_out" if data["kind"] == "flow_out" else "active"
    session.add(Movement(member_id=member.id, kind=data["kind"], from_branch_id=source,
                         to_branch_id=target.id, on=data["on"], note=data.get("note"),
                         recorded_at=now()))
    session.publish("member_transferred", {**member_place(member, target),
                                           "from_branch_id": source, "kind": data["kind"]})
    return member


def member_leaves(session, data: dict) -> Member:
    member = active_member(session, data["member_id"])
    if data["on"] < member.join_date:
        raise InvalidInput({"on": ["is before the member joined"]})
    branch = session.get(OrgUnit, member.branch_id)
    member.state, member.left_reason, member.left_on = "left", data["reason"], data["on"]
    session.add(Movement(member_id=member.id, kind="left", from_branch_id=member.branch_id,
                         to_branch_id=None, on=data["on"],
                         note=f"{data['reason']}: {data.get('note') or ''}".strip(": "),
                         recorded_at=now()))
    session.publish("member_left", {**member_place(member, branch), "reason": data["reason"],
                                    "left_on": data["on"]})
    return member


def history(session, member_id) -> list[dict]:
    _get(session, Member, member_id, "member_id")
    rows = session.scalars(select(Movement).where(Movement.member_id == member_id)
                           .order_by(Movement.id)).all()
    return [{"kind": m.kind, "from_branch_id": m.from_branch_id, "to_branch_id": m.to_branch_id,
             "on": m.on.isoformat(), "note": m.note} for m in rows]


# -- activities ---------------------------------------------------------------------------------

def activity_dict(activity: Activity) -> dict:
    return {"id": activity.id, "member_id": activity.member_id, "branch_id": activity.branch_id,
            "kind": activity.kind, "occurred_on": activity.occurred_on.isoformat(),
            **{f: _plain(getattr(activity, f)) for f in KIND_SPECIFIC},
            "event_id": activity.event_id,
            "revoked": activity.revoked_at is not None, "revoke_reason": activity.revoke_reason}


def _plain(value):
    from decimal import Decimal
    return str(value) if isinstance(value, Decimal) else value


def record_activity(session, data: dict, batch: str | None = None) -> Activity:
    member = active_member(session, data["member_id"])
    if member.state != "active":
        raise Conflict(f"member {member.id} has flowed out; record the activity where they are now")
    if data["occurred_on"] < member.join_date:
        raise InvalidInput({"occurred_on": [f"is before the member joined ({member.join_date})"]})
    if data.get("team_id") is not None and session.get(Team, data["team_id"]) is None:
        raise InvalidInput({"team_id": [f"volunteer team {data['team_id']} does not exist"]})
    branch = session.get(OrgUnit, member.branch_id)
    place = member_place(member, branch)
    activity = Activity(**{f: data.get(f) for f in KIND_SPECIFIC}, member_id=member.id,
                        branch_id=branch.id, township_id=branch.township_id,
                        category=member.category, kind=data["kind"],
                        occurred_on=data["occurred_on"], event_id="", batch=batch,
                        recorded_at=now())
    session.add(activity)
    session.flush()
    envelope = session.publish("activity_recorded", {
        **place, "activity_id": activity.id, "kind": activity.kind,
        "occurred_on": activity.occurred_on, **{f: data.get(f) for f in KIND_SPECIFIC}})
    activity.event_id = envelope.id
    return activity


def revoke_activity(session, activity_id, reason: str) -> Activity:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput({"reason": ["say why the activity is revoked"]})
    reason = inputs.text(reason, "reason", 500)
    activity = _get(session, Activity, activity_id, "activity_id")
    if activity.revoked_at is not None:
        raise Conflict(f"activity {activity_id} was already revoked ({activity.revoke_reason})")
    activity.revoked_at, activity.revoke_reason = now(), reason
    session.publish("activity_revoked", {
        "member_id": activity.member_id, "branch_id": activity.branch_id,
        "township_id": activity.township_id, "category": activity.category,
        "activity_id": activity.id, "revoked_event_id": activity.event_id,
        "reason": activity.revoke_reason})
    return activity


def branch_member_by_resident_id(session, branch_id):
    def resolve(number):
        return session.scalar(select(Member.id).where(Member.resident_id == number,
                                                      Member.branch_id == branch_id))
    return resolve


# -- volunteer teams ----------------------------------------------------------------------------

def create_team(session, data: dict) -> Team:
    if data.get("branch_id") is not None:
        branch = _branch(session, data["branch_id"])
        data = {**data, "township_id": data.get("township_id") or branch.township_id}
    if data.get("township_id") is not None:
        township = _active_unit(session, data["township_id"], "township_id")
        if township.kind not in TOWNSHIP_KINDS:
            raise InvalidInput({"township_id": [f"unit {township.id} is not a township or street"]})
    if session.scalar(select(Team.id).where(Team.name == data["name"])) is not None:
        raise InvalidInput({"name": ["a volunteer team with this name exists"]})
    team = Team(**data)
    session.add(team)
    session.flush()
    return team


def create_project(session, data: dict) -> Project:
    if session.get(Team, data["team_id"]) is None:
        raise InvalidInput({"team_id": [f"volunteer team {data['team_id']} does not exist"]})
    if session.scalar(select(Project.id).where(Project.team_id == data["team_id"],
                                               Project.name == data["name"])) is not None:
        raise InvalidInput({"name": ["this team already has a project with this name"]})
    project = Project(**data)
    session.add(project)
    session.flush()
    return project


# -- member development -------------------------------------------------------------------------

def step_history(session, candidate_id) -> list[dict]:
    rows = session.scalars(select(DevelopmentStep).where(DevelopmentStep.candidate_id == candidate_id)
                           .order_by(DevelopmentStep.no)).all()
    return [{"step": r.step, "on": r.on, "by": r.by, "data": r.data, "stage_before": r.stage_before,
             "stage_after": r.stage_after, "result": r.result} for r in rows]


def candidate_dict(session, candidate: Candidate) -> dict:
    steps = step_history(session, candidate.id)
    return {"id": candidate.id, "branch_id": candidate.branch_id, "name": candidate.name,
            "stage": candidate.stage, "member_id": candidate.member_id,
            "next_steps": development.next_steps(steps),
            "record": [{**entry, "on": entry["on"].isoformat() if hasattr(entry["on"], "isoformat")
                        else entry["on"]} for entry in development.record(steps)]}


def record_step(session, candidate: Candidate, step: str, on: date, by: str, data: dict, cfg,
                member_data_loader) -> dict:
    history = step_history(session, candidate.id)
    entry = development.apply(history, step, on, by, data, cfg)
    session.add(DevelopmentStep(candidate_id=candidate.id, no=len(history) + 1, step=step,
                                on=entry["on"], by=entry["by"], data=entry["data"],
                                stage_before=entry["stage_before"], stage_after=entry["stage_after"],
                                result=entry["result"], recorded_at=now()))
    candidate.stage = entry["stage_after"]
    branch = session.get(OrgUnit, candidate.branch_id)
    if step == "admission" and entry["result"] != "rejected":
        profile = member_data_loader({**candidate.profile, "join_date": entry["on"].isoformat(),
                                      "status": "probationary", "branch_id": candidate.branch_id})
        member = register_member(session, profile)
        candidate.member_id = member.id
    if step == "confirmation" and entry["result"] != "rejected":
        member = active_member(session, candidate.member_id)
        member.status = "full"
        session.publish("member_status_changed", {**member_place(member, branch), "status": "full"})
    session.flush()
    session.publish("development_step_recorded", {
        "candidate_id": candidate.id, "branch_id": candidate.branch_id, "step": step,
        "stage": candidate.stage, "recorded_on": entry["on"], "recorded_by": entry["by"],
        "member_id": candidate.member_id})
    return entry
