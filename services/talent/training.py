"""Training bases, courses, sessions and attendance (with ``training_attended`` events), and the
hours per cadre per year: functions of a session (no nameko)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from services.talent import cadres, directory, profiles, training_rules
from services.talent.models import (Attendance, Cadre, Course, Member, Post, ReserveEntry,
                                    TrainingBase, TrainingSession, WealthLeader)
from services.talent.plain import plain
from shared.errors import Conflict, InvalidInput, NotFound


def add_base(session, data) -> dict:
    if data["township_id"] is not None:
        directory.township(session, data["township_id"])
    if session.scalar(select(TrainingBase.id).where(TrainingBase.name == data["name"])):
        raise Conflict(f"a training base is named {data['name']} already")
    base = TrainingBase(**data)
    session.add(base)
    session.flush()
    return base_dict(base)


def base_dict(base: TrainingBase) -> dict:
    return {"id": base.id, "name": base.name, "location": base.location,
            "township_id": base.township_id}


def bases(session) -> list[dict]:
    return [base_dict(b) for b in session.scalars(select(TrainingBase).order_by(TrainingBase.id))]


def add_course(session, data) -> dict:
    if data["township_id"] is not None:
        directory.township(session, data["township_id"])
    course = Course(**data)
    session.add(course)
    session.flush()
    return course_dict(course)


def course_dict(course: Course) -> dict:
    return plain({"id": course.id, "title": course.title, "mode": course.mode,
                  "hours": course.hours, "township_id": course.township_id})


def add_session(session, data) -> dict:
    course = session.get(Course, data["course_id"])
    if course is None:
        raise NotFound(f"course_id {data['course_id']}: no such course")
    if session.get(TrainingBase, data["base_id"]) is None:
        raise NotFound(f"base_id {data['base_id']}: no such training base")
    held = TrainingSession(course_id=course.id, base_id=data["base_id"], held_on=data["held_on"],
                           hours=data["hours"] or course.hours)
    session.add(held)
    session.flush()
    return session_dict(held, course)


def session_dict(held: TrainingSession, course: Course) -> dict:
    return plain({"id": held.id, "course_id": course.id, "course": course.title,
                  "mode": course.mode, "base_id": held.base_id, "held_on": held.held_on,
                  "hours": held.hours})


def record_attendance(session, data, today: date) -> dict:
    """Record who attended a session: one ``training_attended`` per attendee. The member's place
    (branch, township) goes with it when the cadre is a member, so the stars rulebook can score
    it for the member."""
    held = session.get(TrainingSession, data["session_id"])
    if held is None:
        raise NotFound(f"session_id {data['session_id']}: no such training session")
    if held.held_on > today:
        raise Conflict(f"session {held.id} is held on {held.held_on.isoformat()}: record "
                       f"attendance once it took place")
    problem = training_rules.hours_problem(held.hours, data["hours"])
    if problem:
        raise InvalidInput({"hours": [problem]})
    found = {c.id: c for c in session.scalars(select(Cadre).where(Cadre.id.in_(data["cadre_ids"])))}
    unknown = [i for i in data["cadre_ids"] if i not in found]
    if unknown:
        raise NotFound(f"cadre_ids: no cadre {', '.join(map(str, unknown))}")
    already = set(session.scalars(select(Attendance.cadre_id).where(
        Attendance.session_id == held.id, Attendance.cadre_id.in_(data["cadre_ids"]))))
    if already:
        raise Conflict(f"session {held.id}: attendance of cadre {', '.join(map(str, sorted(already)))} "
                       f"is recorded already")
    course = session.get(Course, held.course_id)
    hours = training_rules.attended_hours(held.hours, data["hours"])
    rows = [Attendance(session_id=held.id, cadre_id=cadre_id, hours=hours, held_on=held.held_on)
            for cadre_id in data["cadre_ids"]]
    session.add_all(rows)
    session.flush()
    session.publish_many([("training_attended", attended_payload(
        row, found[row.cadre_id], held, course, place_of(session, found[row.cadre_id])))
        for row in rows])
    return plain({"session_id": held.id, "held_on": held.held_on, "hours": hours,
                  "attendance": [{"id": row.id, "cadre_id": row.cadre_id} for row in rows]})


def place_of(session, cadre: Cadre) -> tuple:
    """(branch_id, township_id, category) a cadre's ``training_attended`` carries: the member's
    place and category when the cadre is a member (``cadres.place_of``)."""
    branch_id, township_id = cadres.place_of(session, cadre)
    member = session.get(Member, cadre.member_id) if cadre.member_id is not None else None
    return branch_id, township_id, member.category if member is not None else None


def attended_payload(row: Attendance, cadre: Cadre, held: TrainingSession, course: Course,
                     place: tuple) -> dict:
    branch_id, township_id, category = place
    return {"attendance_id": row.id, "session_id": held.id, "course_id": course.id,
            "base_id": held.base_id, "cadre_id": cadre.id, "member_id": cadre.member_id,
            "branch_id": branch_id, "township_id": township_id, "category": category,
            "mode": course.mode, "hours": row.hours, "occurred_on": held.held_on}


def hours_report(session, year: int, township_id, required: Decimal, unit_id=None) -> dict:
    """Hours and sessions per cadre in ``year``: every secretary and first secretary in post on
    the year's last day (or today, in the current year) and everyone else who attended;
    optionally of one township, and of one unit (``unit_id``: the cadres whose unit, ``_units``,
    is it or lies under it)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    totals = {cadre_id: (hours, sessions) for cadre_id, hours, sessions in session.execute(
        select(Attendance.cadre_id, func.sum(Attendance.hours), func.count())
        .where(Attendance.held_on >= start, Attendance.held_on <= end)
        .group_by(Attendance.cadre_id))}
    in_post = {post.cadre_id: post for post in session.scalars(select(Post).where(
        Post.started_on <= end, (Post.ended_on.is_(None)) | (Post.ended_on > start)))}
    ids = set(totals) | set(in_post)
    people = {c.id: c for c in session.scalars(select(Cadre).where(Cadre.id.in_(ids)))} if ids else {}
    townships = _townships(session, ids, in_post)
    within = None
    if unit_id is not None:
        covered = set(directory.subtree(session, unit_id))
        within = {cadre_id for cadre_id, unit in _units(session, people, in_post).items()
                  if unit in covered}
    rows = []
    for cadre_id in ids:
        if township_id is not None and townships.get(cadre_id) != township_id:
            continue
        if within is not None and cadre_id not in within:
            continue
        hours, sessions = totals.get(cadre_id, (Decimal(0), 0))
        post = in_post.get(cadre_id)
        rows.append({"cadre_id": cadre_id, "name": people[cadre_id].name,
                     "role": post.role if post else None, "township_id": townships.get(cadre_id),
                     "hours": Decimal(hours), "sessions": sessions})
    report = training_rules.yearly_rows(rows, required)
    return plain({"year": year, "township_id": township_id, "unit_id": unit_id,
                  "required_hours": required, "cadres": len(report),
                  "short": sum(not r["met"] for r in report),
                  "total_hours": sum((r["hours"] for r in report), Decimal(0)),
                  "rows": report})


def _units(session, people, in_post) -> dict:
    """Each cadre's unit (``profiles.home_unit``): the post of the year's, else the unit the
    profile was registered under, else the reserve entry's village (or township), else the
    wealth leader's village, else the member's branch."""
    ids = list(people)
    if not ids:
        return {}
    reserve = dict(session.execute(select(
        ReserveEntry.cadre_id, func.coalesce(ReserveEntry.village_id, ReserveEntry.township_id))
        .where(ReserveEntry.cadre_id.in_(ids))).all())
    leaders = dict(session.execute(select(WealthLeader.cadre_id, WealthLeader.village_id)
                                   .where(WealthLeader.cadre_id.in_(ids))).all())
    branches = dict(session.execute(select(Cadre.id, Member.branch_id)
                                    .join(Member, Member.id == Cadre.member_id)
                                    .where(Cadre.id.in_(ids))).all())
    return {cadre_id: profiles.home_unit(
        held_post=getattr(in_post.get(cadre_id), "unit_id", None),
        registered=cadre.unit_id, reserve=reserve.get(cadre_id),
        wealth_leader=leaders.get(cadre_id), member_branch=branches.get(cadre_id))
        for cadre_id, cadre in people.items()}


def _townships(session, ids, in_post) -> dict:
    """Each cadre's township: the post's, else the member's, else the reserve or wealth entry's."""
    found = {cadre_id: post.township_id for cadre_id, post in in_post.items()}
    member_townships = select(Cadre.id, Member.township_id).join(Member, Member.id == Cadre.member_id)
    for query in (member_townships, select(ReserveEntry.cadre_id, ReserveEntry.township_id),
                  select(WealthLeader.cadre_id, WealthLeader.township_id)):
        rest = set(ids) - set(found)
        if rest:
            key = query.selected_columns[0]
            found.update(session.execute(query.where(key.in_(rest))).all())
    return found
