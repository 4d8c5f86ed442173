"""Appointments and removals (with their events), village statuses and the first secretary
coverage report: functions of a session (no nameko)."""
from datetime import date

from sqlalchemy import select

from services.talent import cadres, coverage, directory, terms
from services.talent.models import Post, ReserveEntry, Unit, VillageStatus
from services.talent.plain import plain
from shared.errors import Conflict, InvalidInput, NotFound


def appoint(session, data, settings) -> dict:
    """Appoint a cadre to a post: publishes ``cadre_appointed``. The unit must suit the role,
    nobody may hold the role there from the start date on, the cadre may hold no other post then,
    and a first secretary must be sent by whom the village's status says."""
    cadre = cadres.get(session, data["cadre_id"])
    unit = directory.unit(session, data["unit_id"], "unit_id")
    problem = terms.unit_problem(data["role"], unit.kind, unit.dissolved)
    if problem:
        raise InvalidInput({"unit_id": [problem]})
    problem = terms.standing_problem(cadres.standing_of(session, cadre))
    if problem:
        raise Conflict(f"cadre {cadre.id}: {problem}")
    if data["role"] == "first_secretary":
        status = village_status(session, unit.id)
        problem = terms.sender_problem(data["sent_by"], status, settings.city_sends_to)
        if problem:
            raise Conflict(f"sent_by {data['sent_by']}: {problem}")
    start = data["started_on"]
    holder = session.scalars(select(Post).where(
        Post.unit_id == unit.id, Post.role == data["role"],
        (Post.ended_on.is_(None)) | (Post.ended_on > start))).first()
    if holder is not None:
        raise Conflict(f"{unit.name} has a {data['role']} (cadre {holder.cadre_id}, post "
                       f"{holder.id}) from {holder.started_on.isoformat()} on: remove them first")
    held = session.scalars(select(Post).where(
        Post.cadre_id == cadre.id, (Post.ended_on.is_(None)) | (Post.ended_on > start))).first()
    if held is not None:
        raise Conflict(f"cadre {cadre.id} holds post {held.id} ({held.role}) from "
                       f"{held.started_on.isoformat()} on: one post at a time")
    ends_on = data["ends_on"] or terms.default_end(start, settings.term_years[data["role"]])
    post = Post(cadre_id=cadre.id, role=data["role"], unit_id=unit.id,
                township_id=unit.township_id, sent_by=data["sent_by"], started_on=start,
                ends_on=ends_on, reason=data["reason"])
    session.add(post)
    entry = session.get(ReserveEntry, cadre.id)
    if entry is not None and entry.state == "active" and data["role"] == "village_secretary":
        entry.state, entry.left_on, entry.left_reason = "appointed", start, data["reason"]
    session.flush()
    session.publish("cadre_appointed", {**event_payload(cadre, post), "occurred_on": start})
    return cadres.post_dict(post, unit.name, start)


def remove(session, post_id, ended_on: date, reason: str) -> dict:
    """End a post's term: publishes ``cadre_removed``."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"post_id {post_id}: no such post")
    if post.ended_on is not None:
        raise Conflict(f"post {post_id} ended on {post.ended_on.isoformat()} already")
    problem = terms.end_problem(post.started_on, ended_on)
    if problem:
        raise InvalidInput({"ended_on": [problem]})
    post.ended_on, post.end_reason = ended_on, reason
    session.flush()
    cadre = cadres.get(session, post.cadre_id)
    session.publish("cadre_removed", {**event_payload(cadre, post), "ended_on": ended_on,
                                      "end_reason": reason, "occurred_on": ended_on})
    return cadres.post_dict(post, directory.names(session, [post.unit_id]).get(post.unit_id),
                            ended_on)


def event_payload(cadre, post: Post) -> dict:
    """What ``cadre_appointed`` and ``cadre_removed`` share: the post and its holder."""
    return {"post_id": post.id, "cadre_id": cadre.id, "member_id": cadre.member_id,
            "name": cadre.name, "role": post.role, "unit_id": post.unit_id,
            "branch_id": post.unit_id if post.role != "township_secretary" else None,
            "township_id": post.township_id, "sent_by": post.sent_by,
            "started_on": post.started_on, "ends_on": post.ends_on, "reason": post.reason}


def village_status(session, village_id) -> str:
    found = session.get(VillageStatus, village_id)
    return found.status if found else "normal"


def set_village_status(session, data) -> dict:
    village = directory.village(session, data["village_id"])
    row = session.get(VillageStatus, village.id) or VillageStatus(village_id=village.id)
    row.status, row.reason, row.decided_on = data["status"], data["reason"], data["decided_on"]
    session.add(row)
    session.flush()
    return plain({"village_id": village.id, "village": village.name, "status": row.status,
                  "reason": row.reason, "decided_on": row.decided_on})


def first_secretary_coverage(session, day: date, settings) -> dict:
    villages = directory.villages(session)
    township_names = directory.names(session, [v.township_id for v in villages])
    rows = session.execute(
        select(Post, cadres.Cadre.name).join(cadres.Cadre, cadres.Cadre.id == Post.cadre_id)
        .where(Post.role == "first_secretary", Post.started_on <= day,
               (Post.ended_on.is_(None)) | (Post.ended_on > day))).all()
    posts = [{"post_id": post.id, "cadre_id": post.cadre_id, "name": name,
              "unit_id": post.unit_id, "sent_by": post.sent_by, "started_on": post.started_on,
              "ends_on": post.ends_on} for post, name in rows]
    statuses = dict(session.execute(select(VillageStatus.village_id, VillageStatus.status)).all())
    return coverage.report(
        [{"id": v.id, "name": v.name, "township_id": v.township_id,
          "township": township_names.get(v.township_id)} for v in villages],
        posts, statuses, day, settings.term_ending_within_days, settings.city_sends_to)


def sitting(session, unit_id, role, day: date) -> Post | None:
    return session.scalars(select(Post).where(
        Post.unit_id == unit_id, Post.role == role, Post.started_on <= day,
        (Post.ended_on.is_(None)) | (Post.ended_on > day))).first()


def unit_of(session, post: Post) -> Unit | None:
    return session.get(Unit, post.unit_id)
