"""Cadre profiles: functions of a session (no nameko). A profile is a person; what they are
(township or village Party secretary, first secretary, reserve candidate, wealth-creation
leader) follows from their posts and entries."""
from datetime import date

from sqlalchemy import exists, func, select

from services.talent import directory, profiles, terms
from services.talent.models import Cadre, Member, Post, ReserveEntry, WealthLeader
from services.talent.plain import plain
from shared.errors import Conflict, InvalidInput, NotFound

TEAMS = ("township_secretary", "village_secretary", "first_secretary", "reserve", "wealth_leader")


def get(session, cadre_id, field="cadre_id") -> Cadre:
    found = session.get(Cadre, cadre_id)
    if found is None:
        raise NotFound(f"{field} {cadre_id}: no such cadre")
    return found


def register(session, data, today: date) -> dict:
    problem = profiles.standing_problem(data["member_id"], data["standing"])
    if problem:
        raise InvalidInput({"standing": [problem]})
    if data["birth_date"] > today:
        raise InvalidInput({"birth_date": ["must not be in the future"]})
    if data["unit_id"] is not None:
        unit = directory.unit(session, data["unit_id"], "unit_id")
        if unit.dissolved:
            raise InvalidInput({"unit_id": [f"{unit.name} is dissolved"]})
    if data["member_id"] is not None:
        directory.member(session, data["member_id"])
        taken = session.scalar(select(Cadre.id).where(Cadre.member_id == data["member_id"]))
        if taken is not None:
            raise Conflict(f"member {data['member_id']} already has a profile (cadre {taken})")
    cadre = Cadre(**{**data, "registered_on": data["registered_on"] or today})
    session.add(cadre)
    session.flush()
    return profile(session, cadre, today)


def update(session, cadre_id, data, today: date) -> dict:
    cadre = get(session, cadre_id)
    if "standing" in data:
        problem = profiles.standing_problem(cadre.member_id, data["standing"])
        if problem:
            raise InvalidInput({"standing": [problem]})
    for key, value in data.items():
        setattr(cadre, key, value)
    session.flush()
    return profile(session, cadre, today)


def standing_of(session, cadre: Cadre) -> str:
    member = session.get(Member, cadre.member_id) if cadre.member_id is not None else None
    return profiles.standing(cadre.member_id, member and member.status,
                             member.active if member else None, cadre.standing)


def open_post(session, cadre_id, day: date) -> Post | None:
    """The post ``cadre_id`` holds on ``day`` (one at most)."""
    return session.scalars(select(Post).where(
        Post.cadre_id == cadre_id, Post.started_on <= day,
        (Post.ended_on.is_(None)) | (Post.ended_on > day))).first()


def place_of(session, cadre: Cadre) -> tuple:
    """(branch_id, township_id) a cadre's events carry: the member's place when the cadre is a
    member the directory knows (as the stars service places members), else the unit of the
    latest post, else the reserve or wealth-leader entry's village."""
    if cadre.member_id is not None:
        member = session.get(Member, cadre.member_id)
        if member is not None and member.branch_id is not None:
            return member.branch_id, member.township_id
    post = session.scalars(select(Post).where(Post.cadre_id == cadre.id)
                           .order_by(Post.started_on.desc(), Post.id.desc())).first()
    if post is not None:
        return (post.unit_id if post.role != "township_secretary" else None), post.township_id
    for model in (ReserveEntry, WealthLeader):
        entry = session.get(model, cadre.id)
        if entry is not None:
            return entry.village_id, entry.township_id
    return None, None


def profile(session, cadre: Cadre, today: date) -> dict:
    posts = session.scalars(select(Post).where(Post.cadre_id == cadre.id)
                            .order_by(Post.started_on, Post.id)).all()
    unit_names = directory.names(session, [p.unit_id for p in posts])
    reserve = session.get(ReserveEntry, cadre.id)
    leader = session.get(WealthLeader, cadre.id)
    return plain({
        "id": cadre.id, "name": cadre.name, "gender": cadre.gender, "birth_date": cadre.birth_date,
        "age": profiles.age_on(cadre.birth_date, today), "education": cadre.education,
        "member_id": cadre.member_id, "standing": standing_of(session, cadre),
        "experience_years": cadre.experience_years, "experience": cadre.experience,
        "registered_on": cadre.registered_on, "unit_id": cadre.unit_id,
        "posts": [post_dict(p, unit_names.get(p.unit_id), today) for p in posts],
        "reserve": reserve and {"township_id": reserve.township_id,
                                "village_id": reserve.village_id, "added_on": reserve.added_on,
                                "state": reserve.state, "note": reserve.note,
                                "left_on": reserve.left_on, "left_reason": reserve.left_reason},
        "wealth_leader": leader and {"village_id": leader.village_id,
                                     "township_id": leader.township_id,
                                     "industry": leader.industry,
                                     "households_helped": leader.households_helped,
                                     "since": leader.since}})


def post_dict(post: Post, unit_name, today: date) -> dict:
    return plain({"id": post.id, "cadre_id": post.cadre_id, "role": post.role,
                  "unit_id": post.unit_id, "unit": unit_name, "township_id": post.township_id,
                  "sent_by": post.sent_by, "started_on": post.started_on, "ends_on": post.ends_on,
                  "reason": post.reason, "ended_on": post.ended_on, "end_reason": post.end_reason,
                  "held": terms.is_open(post.started_on, post.ended_on, today)})


def listing(session, team, township_id, offset, limit, today: date, unit_id=None) -> dict:
    """The cadres of one team (``TEAMS``), optionally of one township, and of one unit
    (``unit_id``: those whose unit is it or lies under it, ``team_unit``), by id."""
    if team in ("township_secretary", "village_secretary", "first_secretary"):
        query = (select(Cadre, Post).join(Post, Post.cadre_id == Cadre.id)
                 .where(Post.role == team, Post.started_on <= today,
                        (Post.ended_on.is_(None)) | (Post.ended_on > today)))
        model, order = Post, Post.unit_id
    else:
        model = ReserveEntry if team == "reserve" else WealthLeader
        query = select(Cadre, model).join(model, model.cadre_id == Cadre.id)
        if team == "reserve":
            query = query.where(ReserveEntry.state == "active")
        order = Cadre.id
    if township_id is not None:
        query = query.where(model.township_id == township_id)
    if unit_id is not None:
        query = query.where(team_unit(team).in_(directory.subtree(session, unit_id)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(order, Cadre.id).offset(offset).limit(limit)).all()
    unit_ids = [getattr(extra, "unit_id", None) or getattr(extra, "village_id", None)
                for _, extra in rows]
    unit_names = directory.names(session, unit_ids)
    return plain({"team": team, "township_id": township_id, "unit_id": unit_id, "total": total,
                  "offset": offset,
                  "cadres": [{"id": cadre.id, "name": cadre.name, "member_id": cadre.member_id,
                              "age": profiles.age_on(cadre.birth_date, today),
                              "education": cadre.education,
                              "unit_id": held, "unit": unit_names.get(held)}
                             for (cadre, _), held in zip(rows, unit_ids)]})


def team_unit(team):
    """The column holding the unit a member of ``team`` belongs to in a listing: the post's unit
    (a village, or a township for its secretary), a reserve candidate's village (else the
    township whose pool holds them), a wealth leader's village."""
    if team == "reserve":
        return func.coalesce(ReserveEntry.village_id, ReserveEntry.township_id)
    if team == "wealth_leader":
        return WealthLeader.village_id
    return Post.unit_id


def team_problem(team) -> str | None:
    return None if team in TEAMS else f"must be one of {', '.join(TEAMS)}"


def has_cadres(session) -> bool:
    return session.scalar(select(exists().where(Cadre.id.isnot(None))))
