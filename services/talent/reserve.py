"""The reserve cadre pool (后备干部库) and what a village secretary vacancy's shortlist needs
from it: functions of a session (no nameko)."""
from datetime import date

from sqlalchemy import select

from services.talent import cadres, directory, posts, profiles
from services.talent.models import Cadre, Member, Post, ReserveEntry
from services.talent.plain import plain
from shared.errors import Conflict, InvalidInput, NotFound


def add(session, data) -> dict:
    cadre = cadres.get(session, data["cadre_id"])
    township = directory.township(session, data["township_id"])
    if data["village_id"] is not None:
        village = directory.village(session, data["village_id"])
        if village.township_id != township.id:
            raise InvalidInput({"village_id": [f"{village.name} is not in {township.name}"]})
    entry = session.get(ReserveEntry, cadre.id)
    if entry is not None and entry.state == "active":
        raise Conflict(f"cadre {cadre.id} is in the pool already (since "
                       f"{entry.added_on.isoformat()})")
    entry = entry or ReserveEntry(cadre_id=cadre.id)
    entry.township_id, entry.village_id = township.id, data["village_id"]
    entry.added_on, entry.note, entry.state = data["added_on"], data["note"], "active"
    entry.left_on = entry.left_reason = None
    session.add(entry)
    session.flush()
    return entry_dict(entry, cadre)


def withdraw(session, cadre_id, on: date, reason: str) -> dict:
    entry = session.get(ReserveEntry, cadre_id)
    if entry is None or entry.state != "active":
        raise NotFound(f"cadre_id {cadre_id}: not in the reserve pool")
    if on < entry.added_on:
        raise InvalidInput({"on": [f"must not be before the entry ({entry.added_on.isoformat()})"]})
    entry.state, entry.left_on, entry.left_reason = "withdrawn", on, reason
    session.flush()
    return entry_dict(entry, cadres.get(session, cadre_id))


def entry_dict(entry: ReserveEntry, cadre: Cadre) -> dict:
    return plain({"cadre_id": cadre.id, "name": cadre.name, "township_id": entry.township_id,
                  "village_id": entry.village_id, "added_on": entry.added_on,
                  "state": entry.state, "note": entry.note, "left_on": entry.left_on,
                  "left_reason": entry.left_reason})


def vacancy(session, village_id, day: date) -> dict:
    """The vacancy a shortlist fills: a village without a sitting village secretary on ``day``
    (``Conflict`` when it has one)."""
    village = directory.village(session, village_id)
    sitting = posts.sitting(session, village.id, "village_secretary", day)
    if sitting is not None:
        raise Conflict(f"{village.name} has a village secretary (cadre {sitting.cadre_id}, term "
                       f"to {sitting.ends_on.isoformat()}): no vacancy on {day.isoformat()}")
    last = session.scalars(select(Post).where(Post.unit_id == village.id,
                                              Post.role == "village_secretary")
                           .order_by(Post.ended_on.desc())).first()
    since = (f"vacant since {last.ended_on.isoformat()} ({last.end_reason})" if last
             else "no village secretary recorded")
    return {"village_id": village.id, "village": village.name, "township_id": village.township_id,
            "township": directory.names(session, [village.township_id]).get(village.township_id),
            "state": since}


def candidates(session, township_id, scope: str, day: date) -> list[dict]:
    """Every active pool entry in scope, as ``shortlist`` reads a candidate."""
    query = (select(Cadre, ReserveEntry, Member)
             .join(ReserveEntry, ReserveEntry.cadre_id == Cadre.id)
             .outerjoin(Member, Member.id == Cadre.member_id)
             .where(ReserveEntry.state == "active"))
    if scope == "township":
        query = query.where(ReserveEntry.township_id == township_id)
    rows = session.execute(query.order_by(Cadre.id)).all()
    held = {post.cadre_id: post for post in session.scalars(select(Post).where(
        Post.cadre_id.in_([cadre.id for cadre, _, _ in rows]), Post.started_on <= day,
        (Post.ended_on.is_(None)) | (Post.ended_on > day)))} if rows else {}
    unit_names = directory.names(session, [post.unit_id for post in held.values()])
    found = []
    for cadre, entry, member in rows:
        post = held.get(cadre.id)
        found.append({
            "cadre_id": cadre.id, "name": cadre.name, "birth_date": cadre.birth_date,
            "education": cadre.education, "experience_years": cadre.experience_years,
            "member_id": cadre.member_id, "village_id": entry.village_id,
            "township_id": entry.township_id,
            "standing": profiles.standing(cadre.member_id, member and member.status,
                                          member.active if member else None, cadre.standing),
            "post": post and {"role": post.role, "unit": unit_names.get(post.unit_id),
                              "started_on": post.started_on}})
    return found


def listing(session, township_id, offset, limit, today, unit_id=None) -> dict:
    """The active pool, optionally of one township and of one unit (``cadres.listing``)."""
    return cadres.listing(session, "reserve", township_id, offset, limit, today, unit_id)
