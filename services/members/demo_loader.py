"""Bulk-load the generated demo county into the members database, with its events in the outbox
(so the rest of the system hears about every unit, member and activity once the relay runs)."""
from datetime import date, datetime, timezone

from sqlalchemy import func, insert, select

from services.members import demo, orgtree
from services.members.models import Activity, Member, OrgUnit, Project, Team
from shared.bus.outbox import outbox_rows
from shared.contracts import registry
from shared.contracts.envelope import Envelope

CHUNK = 5000


def previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def already_loaded(session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(OrgUnit)))


def _event(type_, data, correlation_id):
    contract = registry.get("members", type_)
    return Envelope(type=type_, source="members", version=contract.version,
                    data=contract.to_wire(data), correlation_id=correlation_id)


def _insert_chunks(session, table, rows):
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start:start + CHUNK])


def load(session, outbox_table, seed=2017, month=None, scale=1.0) -> dict:
    """Insert the county; returns the generator's summary. Caller owns the transaction."""
    month = month or previous_month(date.today())
    county = demo.generate(seed=seed, month=month, scale=scale)
    stamp = datetime.now(timezone.utc)
    correlation = Envelope(type="demo_loaded", source="members", data={}).id
    events = []

    unit_ids, units_by_key = {}, {}
    for unit in county.org_units:
        parent_id = unit_ids.get(unit["parent_key"])
        row = OrgUnit(parent_id=parent_id, kind=unit["kind"], name=unit["name"], created_at=stamp)
        session.add(row)
        session.flush()
        parent = units_by_key.get(unit["parent_key"])
        row.township_id = row.id if unit["kind"] in ("township_committee", "street_committee") \
            else (parent.township_id if parent is not None else None)
        unit_ids[unit["key"]], units_by_key[unit["key"]] = row.id, row
        events.append(_event("org_unit_created", {
            "org_unit_id": row.id, "parent_id": parent_id, "township_id": row.township_id,
            "kind": row.kind, "name": row.name}, correlation))

    member_rows = []
    for number, member in enumerate(county.members, start=1):
        branch = units_by_key[member["branch_key"]]
        member_rows.append({
            "id": number, "branch_id": branch.id, "name": member["name"], "gender": member["gender"],
            "ethnicity": member["ethnicity"], "birth_date": member["birth_date"],
            "resident_id": member["resident_id"], "phone": member["phone"],
            "education": member["education"], "join_date": member["join_date"],
            "status": member["status"], "household_plaque": member["household_plaque"],
            "category": orgtree.category_of(branch.kind), "state": "active", "created_at": stamp})
    _insert_chunks(session, Member.__table__, member_rows)
    member_ids = {m["key"]: number for number, m in enumerate(county.members, start=1)}
    township_of = {unit.id: unit.township_id for unit in units_by_key.values()}
    member_place = {row["id"]: (row["branch_id"], township_of[row["branch_id"]], row["category"])
                    for row in member_rows}
    for row in member_rows:
        branch_id, township_id, category = member_place[row["id"]]
        events.append(_event("member_registered", {
            "member_id": row["id"], "branch_id": branch_id, "township_id": township_id,
            "category": category, "name": row["name"], "status": row["status"],
            "join_date": row["join_date"]}, correlation))

    team_ids = {}
    for number, team in enumerate(county.teams, start=1):
        team_ids[team["key"]] = number
    _insert_chunks(session, Team.__table__, [{
        "id": team_ids[t["key"]], "name": t["name"],
        "branch_id": unit_ids.get(t["branch_key"]), "township_id": unit_ids.get(t["township_key"]),
        "description": None} for t in county.teams])
    _insert_chunks(session, Project.__table__, [{
        "team_id": team_ids[p["team_key"]], "name": p["name"]} for p in county.projects])

    activity_rows = []
    for number, activity in enumerate(county.activities, start=1):
        member_id = member_ids[activity["member_key"]]
        branch_id, township_id, category = member_place[member_id]
        kind_fields = {f: activity[f] for f in ("hours", "project", "meeting_kind", "attended",
                                                "amount", "households")}
        kind_fields["team_id"] = team_ids.get(activity["team_key"])
        envelope = _event("activity_recorded", {
            "member_id": member_id, "branch_id": branch_id, "township_id": township_id,
            "category": category, "activity_id": number, "kind": activity["kind"],
            "occurred_on": activity["occurred_on"], **kind_fields}, correlation)
        events.append(envelope)
        activity_rows.append({"id": number, "member_id": member_id, "branch_id": branch_id,
                              "township_id": township_id, "category": category,
                              "kind": activity["kind"], "occurred_on": activity["occurred_on"],
                              **kind_fields, "event_id": envelope.id, "batch": "demo",
                              "recorded_at": stamp})
    _insert_chunks(session, Activity.__table__, activity_rows)
    _insert_chunks(session, outbox_table, outbox_rows(events))
    _advance_sequences(session, (Member.__table__, Team.__table__, Activity.__table__))
    return {**demo.summary(county), "month": f"{month[0]}-{month[1]:02d}", "events": len(events)}


def _advance_sequences(session, tables):
    """Explicit ids bypass PostgreSQL sequences; move them past the loaded rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    from sqlalchemy import text
    for table in tables:
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                             f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"))
