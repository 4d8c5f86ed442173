"""The three-level network (functions of a session): service points hosted by organisation
units, their duty rotas (坐班) and proxy agents (代办员)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select

from services.tickets import directory, routing, sla
from services.tickets.directory import township_of
from services.tickets.models import Agent, DutyShift, KnownMember, ServicePoint, Unit
from shared.errors import Conflict, NotFound


def register_point(session, data) -> dict:
    unit = session.get(Unit, data["unit_id"])
    if unit is None:
        raise NotFound(f"org unit {data['unit_id']} is not known to tickets (yet)")
    if unit.dissolved:
        raise Conflict(f"org unit {unit.id} ({unit.name}) is dissolved")
    level = routing.level_of_unit(unit.kind)
    if level is None:
        raise Conflict(f"a {unit.kind} hosts no service point: only the city committee, "
                       "township and street committees, village and community branches do")
    if session.scalar(select(ServicePoint.id).where(ServicePoint.unit_id == unit.id)):
        raise Conflict(f"org unit {unit.id} ({unit.name}) already hosts a service point")
    point = ServicePoint(unit_id=unit.id, level=level, name=data.get("name") or unit.name[:100],
                         township_id=township_of(unit), active=True)
    session.add(point)
    session.flush()
    return point_dict(point)


def point(session, point_id, active=False) -> ServicePoint:
    found = session.get(ServicePoint, point_id)
    if found is None:
        raise NotFound(f"service point {point_id} does not exist")
    if active and not found.active:
        raise Conflict(f"service point {point_id} ({found.name}) is closed")
    return found


def unit_of_point(session, point_id) -> int | None:
    """The organisation unit hosting a service point (None: no such point)."""
    return session.scalar(select(ServicePoint.unit_id).where(ServicePoint.id == point_id))


def unit_of_agent(session, agent_id) -> int | None:
    """The organisation unit hosting a proxy agent's service point (None: no such agent)."""
    return session.scalar(select(ServicePoint.unit_id).join(
        Agent, Agent.service_point_id == ServicePoint.id).where(Agent.id == agent_id))


def point_dict(point: ServicePoint) -> dict:
    return {"id": point.id, "unit_id": point.unit_id, "level": point.level, "name": point.name,
            "township_id": point.township_id, "active": point.active}


def list_points(session, level=None, township_id=None, unit_id=None) -> list[dict]:
    """Service points by id, filtered by ``level``, ``township_id``, and ``unit_id``: the
    points hosted by that unit or a unit under it (``directory.subtree``)."""
    query = select(ServicePoint).order_by(ServicePoint.id)
    if level is not None:
        query = query.where(ServicePoint.level == level)
    if township_id is not None:
        query = query.where(ServicePoint.township_id == township_id)
    if unit_id is not None:
        query = query.where(ServicePoint.unit_id.in_(sorted(directory.subtree(session, unit_id))))
    return [point_dict(p) for p in session.scalars(query)]


def point_at_level(session, origin: ServicePoint, level: str) -> ServicePoint:
    """The service point at ``level`` above (or at) ``origin``: its township's centre, or the
    city platform above that township."""
    if level == origin.level:
        return origin
    if level == "township":
        found = session.scalar(select(ServicePoint).where(
            ServicePoint.unit_id == origin.township_id, ServicePoint.active.is_(True)))
        if found is None:
            raise Conflict(f"no township service centre is registered for township "
                           f"{origin.township_id} (above {origin.name})")
        return found
    above = session.get(Unit, origin.township_id or origin.unit_id)
    city_point = None
    if above is not None and above.parent_id is not None:
        city_point = session.scalar(select(ServicePoint).where(
            ServicePoint.unit_id == above.parent_id, ServicePoint.level == "city",
            ServicePoint.active.is_(True)))
    if city_point is None:
        city_point = session.scalar(select(ServicePoint).where(
            ServicePoint.level == "city", ServicePoint.active.is_(True)).order_by(ServicePoint.id))
    if city_point is None:
        raise Conflict("no city service platform is registered")
    return city_point


# -- duty rotas (坐班) ----------------------------------------------------------------------------

def set_rota(session, point_id, shifts) -> dict:
    found = point(session, point_id, active=True)
    _known_members(session, {s["member_id"] for s in shifts if s.get("member_id")}, "shifts")
    session.execute(delete(DutyShift).where(DutyShift.service_point_id == found.id))
    for shift in shifts:
        session.add(DutyShift(service_point_id=found.id, weekday=shift["weekday"],
                              starts=shift["starts"], ends=shift["ends"],
                              cadre_name=shift["cadre_name"], member_id=shift.get("member_id")))
    session.flush()
    return rota(session, found.id)


def rota(session, point_id) -> dict:
    found = point(session, point_id)
    shifts = session.scalars(select(DutyShift).where(DutyShift.service_point_id == found.id)
                             .order_by(DutyShift.weekday, DutyShift.starts, DutyShift.id))
    return {"service_point_id": found.id, "shifts": [_shift_dict(s) for s in shifts]}


def _shift_dict(shift: DutyShift) -> dict:
    return {"weekday": shift.weekday, "starts": shift.starts, "ends": shift.ends,
            "cadre_name": shift.cadre_name, "member_id": shift.member_id}


def on_duty(session, calendar, point_id, moment: datetime) -> dict:
    """Who sits at the service point at ``moment``: nobody on a day off; on a make-up working
    day (a weekend moved to work) the Monday rota unless the rota has a line for that weekday."""
    found = point(session, point_id)
    day = sla.local_date(moment)
    local = moment.astimezone(sla.LOCAL).strftime("%H:%M")
    shifts = rota(session, found.id)["shifts"]
    if not calendar.is_working_day(day):
        return {"service_point_id": found.id, "day": day.isoformat(), "working_day": False, "on_duty": []}
    weekday = day.isoweekday()
    if weekday > 5 and not any(s["weekday"] == weekday for s in shifts):
        weekday = 1
    present = [s for s in shifts if s["weekday"] == weekday and s["starts"] <= local < s["ends"]]
    return {"service_point_id": found.id, "day": day.isoformat(), "working_day": True,
            "on_duty": present}


# -- proxy agents (代办员) ------------------------------------------------------------------------

def register_agent(session, data, today: date) -> dict:
    found = point(session, data["service_point_id"], active=True)
    if data.get("member_id"):
        _known_members(session, {data["member_id"]}, "member_id")
        if session.scalar(select(Agent.id).where(Agent.member_id == data["member_id"],
                                                 Agent.service_point_id == found.id,
                                                 Agent.active.is_(True))):
            raise Conflict(f"member {data['member_id']} is already an agent of {found.name}")
    agent = Agent(service_point_id=found.id, name=data["name"], phone=data.get("phone"),
                  member_id=data.get("member_id"), active=True, registered_on=today)
    session.add(agent)
    session.flush()
    return agent_dict(agent)


def retire_agent(session, agent_id) -> dict:
    found = agent(session, agent_id)
    if not found.active:
        raise Conflict(f"agent {agent_id} is already retired")
    found.active = False
    return agent_dict(found)


def agent(session, agent_id) -> Agent:
    found = session.get(Agent, agent_id)
    if found is None:
        raise NotFound(f"agent {agent_id} does not exist")
    return found


def agent_dict(agent: Agent) -> dict:
    return {"id": agent.id, "service_point_id": agent.service_point_id, "name": agent.name,
            "phone": agent.phone, "member_id": agent.member_id, "active": agent.active,
            "registered_on": agent.registered_on.isoformat()}


def list_agents(session, point_id) -> list[dict]:
    found = point(session, point_id)
    rows = session.scalars(select(Agent).where(Agent.service_point_id == found.id).order_by(Agent.id))
    return [agent_dict(a) for a in rows]


def _known_members(session, ids, field):
    if not ids:
        return
    known = set(session.scalars(select(KnownMember.id).where(KnownMember.id.in_(list(ids)),
                                                             KnownMember.active.is_(True))))
    missing = sorted(set(ids) - known)
    if missing:
        raise NotFound(f"{field}: member {missing[0]} is not known to tickets (yet) or has left")


def point_detail(session, point_id) -> dict:
    found = point(session, point_id)
    return {**point_dict(found), "agents": list_agents(session, found.id),
            "rota": rota(session, found.id)["shifts"]}

