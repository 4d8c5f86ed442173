"""A township secretary's responsibility, problem and rectification lists and the Party-building
projects they lead: functions of a session (no nameko)."""
from collections import defaultdict
from datetime import date

from sqlalchemy import select

from services.talent import cadres, directory, duty_rules, posts
from services.talent.models import DutyItem, PartyProject
from services.talent.plain import plain
from shared.errors import Conflict, InvalidInput, NotFound


def secretary_of(session, township_id, day: date, field="township_id"):
    """The township secretary's post on ``day`` (``Conflict`` when the post is vacant)."""
    township = directory.township(session, township_id, field)
    post = posts.sitting(session, township.id, "township_secretary", day)
    if post is None:
        raise Conflict(f"{township.name} has no township secretary on {day.isoformat()}: "
                       f"appoint one first (lists and projects are theirs)")
    return post


def add_item(session, data, today: date) -> dict:
    created_on = data["created_on"] or today
    post = secretary_of(session, data["township_id"], created_on)
    if data["deadline"] < created_on:
        raise InvalidInput({"deadline": [f"must not be before the item is added "
                                         f"({created_on.isoformat()})"]})
    if data["problem_id"] is not None:
        problem = session.get(DutyItem, data["problem_id"])
        if problem is None or problem.list_kind != "problem" or problem.cadre_id != post.cadre_id:
            raise InvalidInput({"problem_id": ["must be an item of this secretary's problem list"]})
        if data["list_kind"] != "rectification":
            raise InvalidInput({"problem_id": ["only a rectification item answers a problem"]})
    item = DutyItem(cadre_id=post.cadre_id, township_id=post.unit_id, list_kind=data["list_kind"],
                    title=data["title"], owner=data["owner"], deadline=data["deadline"],
                    status="open", problem_id=data["problem_id"], created_on=created_on)
    session.add(item)
    session.flush()
    return item_dict(item, today)


def set_status(session, data, today: date) -> dict:
    item = session.get(DutyItem, data["item_id"])
    if item is None:
        raise NotFound(f"item_id {data['item_id']}: no such item")
    problem = duty_rules.status_problem(item.status, data["status"], data["on"], item.created_on)
    if problem:
        raise Conflict(f"item {item.id}: {problem}")
    if data["on"] > today:
        raise InvalidInput({"on": ["must not be in the future"]})
    item.status = data["status"]
    item.done_on = data["on"] if data["status"] == "done" else None
    session.flush()
    return item_dict(item, today)


def item_dict(item: DutyItem, day: date) -> dict:
    overdue = duty_rules.is_overdue(item.status, item.deadline, day)
    return plain({"id": item.id, "cadre_id": item.cadre_id, "township_id": item.township_id,
                  "list": item.list_kind, "title": item.title, "owner": item.owner,
                  "deadline": item.deadline, "status": item.status, "done_on": item.done_on,
                  "problem_id": item.problem_id, "created_on": item.created_on,
                  "overdue": overdue,
                  "days_overdue": (day - item.deadline).days if overdue else 0,
                  "on_time": duty_rules.on_time(item.status, item.deadline, item.done_on)})


def lists_of(session, cadre_id, year, day: date) -> dict:
    """A secretary's three lists (items whose deadline falls in ``year``, or all), the overdue
    ones and the projects they lead."""
    cadre = cadres.get(session, cadre_id)
    query = select(DutyItem).where(DutyItem.cadre_id == cadre.id)
    if year is not None:
        query = query.where(DutyItem.deadline >= date(year, 1, 1),
                            DutyItem.deadline <= date(year, 12, 31))
    items = [item_dict(item, day) for item in
             session.scalars(query.order_by(DutyItem.deadline, DutyItem.id))]
    lists = {kind: [i for i in items if i["list"] == kind] for kind in duty_rules.LIST_KINDS}
    projects = session.scalars(select(PartyProject).where(PartyProject.cadre_id == cadre.id)
                               .order_by(PartyProject.started_on, PartyProject.id)).all()
    return plain({"cadre_id": cadre.id, "name": cadre.name, "on": day, "year": year,
                  "lists": lists, "overdue": [i for i in items if i["overdue"]],
                  "counts": {kind: {"items": len(found),
                                    "done": sum(i["status"] == "done" for i in found),
                                    "overdue": sum(i["overdue"] for i in found)}
                             for kind, found in lists.items()},
                  "projects": [project_dict(p) for p in projects]})


def overdue(session, day: date, township_id=None) -> dict:
    """Every item past its deadline and not done on ``day``, by secretary."""
    query = select(DutyItem).where(DutyItem.status != "done", DutyItem.deadline < day)
    if township_id is not None:
        query = query.where(DutyItem.township_id == township_id)
    by_cadre = defaultdict(list)
    for item in session.scalars(query.order_by(DutyItem.deadline, DutyItem.id)):
        by_cadre[item.cadre_id].append(item_dict(item, day))
    names = dict(session.execute(select(cadres.Cadre.id, cadres.Cadre.name)
                                 .where(cadres.Cadre.id.in_(list(by_cadre)))).all()) if by_cadre else {}
    return plain({"on": day, "township_id": township_id,
                  "items": sum(len(found) for found in by_cadre.values()),
                  "secretaries": [{"cadre_id": cadre_id, "name": names.get(cadre_id),
                                   "items": found} for cadre_id, found in sorted(by_cadre.items())]})


def publish_overdue(session, day: date) -> int:
    """Publish ``rectification_overdue`` once for each rectification item past its deadline and
    not done on ``day``; returns how many. Rows are claimed with SKIP LOCKED on PostgreSQL, so
    two processes' timers never publish one item twice."""
    items = session.scalars(
        select(DutyItem).where(DutyItem.list_kind == "rectification", DutyItem.status != "done",
                               DutyItem.deadline < day, DutyItem.overdue_published_on.is_(None))
        .order_by(DutyItem.id).with_for_update(skip_locked=True)).all()
    if not items:
        return 0
    members = dict(session.execute(select(cadres.Cadre.id, cadres.Cadre.member_id).where(
        cadres.Cadre.id.in_({item.cadre_id for item in items}))).all())
    events = []
    for item in items:
        item.overdue_published_on = day
        events.append(("rectification_overdue", {
            "item_id": item.id, "cadre_id": item.cadre_id, "member_id": members.get(item.cadre_id),
            "township_id": item.township_id, "branch_id": None, "title": item.title,
            "owner": item.owner, "deadline": item.deadline, "problem_id": item.problem_id,
            "days_overdue": (day - item.deadline).days, "occurred_on": day}))
    session.publish_many(events)
    return len(events)


# -- Party-building projects ---------------------------------------------------------------------

def add_project(session, data) -> dict:
    post = secretary_of(session, data["township_id"], data["started_on"])
    project = PartyProject(cadre_id=post.cadre_id, township_id=post.unit_id, name=data["name"],
                           goal=data["goal"], started_on=data["started_on"], status="planned")
    session.add(project)
    session.flush()
    return project_dict(project)


def set_project_status(session, data) -> dict:
    project = session.get(PartyProject, data["project_id"])
    if project is None:
        raise NotFound(f"project_id {data['project_id']}: no such project")
    if project.status == "completed":
        raise Conflict(f"project {project.id} was completed on {project.completed_on.isoformat()}")
    if data["status"] == project.status:
        raise Conflict(f"project {project.id} is already {project.status}")
    if data["on"] < project.started_on:
        raise InvalidInput({"on": [f"must not be before the project started "
                                   f"({project.started_on.isoformat()})"]})
    project.status = data["status"]
    project.completed_on = data["on"] if data["status"] == "completed" else None
    session.flush()
    return project_dict(project)


def project_dict(project: PartyProject) -> dict:
    return plain({"id": project.id, "cadre_id": project.cadre_id,
                  "township_id": project.township_id, "name": project.name, "goal": project.goal,
                  "started_on": project.started_on, "status": project.status,
                  "completed_on": project.completed_on})


def rectification_items(session, cadre_id, year: int) -> list[dict]:
    """The secretary's rectification items with a deadline in ``year``, as
    ``duty_rules.rectification_record`` reads them."""
    rows = session.scalars(select(DutyItem).where(
        DutyItem.cadre_id == cadre_id, DutyItem.list_kind == "rectification",
        DutyItem.deadline >= date(year, 1, 1), DutyItem.deadline <= date(year, 12, 31)))
    return [{"id": item.id, "title": item.title, "deadline": item.deadline,
             "status": item.status, "done_on": item.done_on} for item in rows]
