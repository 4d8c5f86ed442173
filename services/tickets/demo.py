"""The demo county's service network and a month of tickets (``load_demo_live``).

It asks the members service (by RPC, through ``cluster``) for the county's organisation tree and
a few members of each village branch, then writes straight into the tickets database: the city
platform, every township centre, a station in every village (``scale`` shrinks the county in the
members service already, so it is not applied twice), two proxy agents
per station (a member of the branch and a college-graduate village official who is not), a duty
rota, the default catalogue, and last month's tickets, each with its history, simulated with the
same rules as live ones (routing, working-day time limits over the calendar, pauses, escalations,
ratings). Of the events those tickets imply, only the ones the stars rulebook scores
(``ticket_resolved``, ``sla_breached``) go to the outbox, so the agents' and branches' credit shows
in the demo's star scores without thousands of events nobody consumes.
"""
from __future__ import annotations

import random
import time as clock_time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import select

from services.tickets import catalogue, directory, lifecycle, payloads, routing, sla
from services.tickets import settings as settings_module
from services.tickets.models import Agent, DutyShift, ServicePoint, Ticket, TicketChange
from shared import config as config_module

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀英", "志强", "桂兰", "海燕", "德明", "玉珍", "春生", "文华", "小红", "振华", "淑芬"]
OFFICIALS = ["（大学生村官）"]
SCHEDULER = "scheduler"
RATINGS = [5] * 55 + [4] * 30 + [3] * 10 + [2] * 4 + [1]


def previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


@dataclass
class Plan:
    """What the month will hold, before it is written."""
    tickets: list = field(default_factory=list)
    changes: list = field(default_factory=list)     # (ticket index, change kwargs)
    events: list = field(default_factory=list)      # (ticket index, type)


def load(config, cluster, scale=1.0, seed=2017, today=None) -> dict | None:
    started = clock_time.monotonic()
    settings = settings_module.load(config)
    from services.tickets.service import TicketsService
    store = TicketsService.store.handle(config_module.database_url(config, "tickets"), "tickets")
    with store.reading() as session:
        if session.scalar(select(ServicePoint.id).limit(1)) is not None:
            return None
    townships = cluster.members.list_townships()
    if not townships:
        return None
    city_id = townships[0]["parent_id"]
    units = cluster.members.list_subtree(city_id)
    villages = [u for u in units if u["kind"] == "village_branch"]   # already scaled by members
    members = {}
    for village in villages:
        found = cluster.members.list_members(village["id"], "active", 0, 3)
        if found:
            members[village["id"]] = {**found[0], "township_id": village["township_id"]}
    rng = random.Random(seed)
    today = today or sla.local_date(datetime.now(timezone.utc))
    month = previous_month(today)
    with store.transaction() as session:
        directory.remember_units(session, units)
        directory.remember_members(session, list(members.values()))
        for matter in settings.catalogue:
            catalogue.define(session, {**matter, "documents": matter.get("documents", [])})
        network = _network(session, units, villages, members, rng, today)
        plan = simulate(rng, settings, network, month, today)
        written = _write(session, plan, network)
    return {"stations": len(network["stations"]), "centres": len(network["centres"]),
            "agents": len(network["agents"]),
            "member_agents": sum(1 for a in network["agents"] if a.member_id),
            "tickets": written["tickets"], "resolved": written["resolved"],
            "events": written["events"], "month": f"{month[0]}-{month[1]:02d}",
            "seconds": round(clock_time.monotonic() - started, 1)}


def _network(session, units, villages, members, rng, today) -> dict:
    by_id = {u["id"]: u for u in units}
    city = next(u for u in units if u["kind"] == "city_committee")
    wanted_towns = sorted({v["township_id"] for v in villages if v["township_id"]})
    points = [ServicePoint(unit_id=city["id"], level="city", name="黄骅市政务服务中心", township_id=None)]
    points += [ServicePoint(unit_id=t, level="township", name=f"{by_id[t]['name'].removesuffix('党委')}便民服务中心",
                            township_id=t) for t in wanted_towns if t in by_id]
    points += [ServicePoint(unit_id=v["id"], level="village",
                            name=f"{v['name'].removesuffix('党支部')}便民服务站", township_id=v["township_id"])
               for v in villages]
    session.add_all(points)
    session.flush()
    agents, shifts = [], []
    for point in points:
        if point.level != "village":
            continue
        member = members.get(point.unit_id)
        if member:
            agents.append(Agent(service_point_id=point.id, name=member["name"][:30], member_id=member["id"],
                                active=True, registered_on=today.replace(day=1) - timedelta(days=60)))
        official = rng.choice(SURNAMES) + rng.choice(GIVEN) + OFFICIALS[0]
        agents.append(Agent(service_point_id=point.id, name=official, member_id=None, active=True,
                            registered_on=today.replace(day=1) - timedelta(days=60)))
        cadres = [a.name for a in agents[-2:]]
        for weekday in range(1, 6):
            shifts.append(DutyShift(service_point_id=point.id, weekday=weekday, starts="08:30",
                                    ends="12:00", cadre_name=cadres[weekday % len(cadres)][:30]))
            shifts.append(DutyShift(service_point_id=point.id, weekday=weekday, starts="14:30",
                                    ends="17:30", cadre_name=cadres[(weekday + 1) % len(cadres)][:30]))
    session.add_all(agents + shifts)
    session.flush()
    return {"city": points[0], "centres": {p.unit_id: p for p in points if p.level == "township"},
            "stations": [p for p in points if p.level == "village"], "agents": agents,
            "agents_of": {p.id: [a for a in agents if a.service_point_id == p.id] for p in points},
            "members": {m["id"]: SimpleNamespace(id=m["id"], category=m["category"]) for m in members.values()},
            "matters": {m.code: m for m in catalogue_rows(session)}}


def catalogue_rows(session):
    from services.tickets.models import Matter
    return session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.code)).all()


def _local(day: date, at: time) -> datetime:
    """A China-local wall time as stored (UTC, no zone)."""
    return datetime.combine(day, at, tzinfo=sla.LOCAL).astimezone(timezone.utc).replace(tzinfo=None)


def _moment(day: date, rng) -> datetime:
    """A moment in office hours on ``day``."""
    return _local(day, time(8, 30)) + timedelta(minutes=rng.randrange(0, 510))


def simulate(rng, settings, network, month, today) -> Plan:
    """Last month's tickets at every station, by the service's own rules."""
    calendar = settings.calendar
    first = date(month[0], month[1], 1)
    days = [first + timedelta(days=n) for n in range(31) if (first + timedelta(days=n)).month == month[1]]
    working = [d for d in days if calendar.is_working_day(d)]
    matters = list(network["matters"].values())
    weights = [6 if m.lowest_level == "village" else 2 if m.lowest_level == "township" else 1 for m in matters]
    plan = Plan()
    for station in network["stations"]:
        for _ in range(rng.randint(6, 14)):
            matter = rng.choices(matters, weights)[0]
            _one(plan, rng, settings, network, station, matter, rng.choice(working), today)
    return plan


def _one(plan, rng, settings, network, station, matter, opened_on, today):
    calendar = settings.calendar
    agents = network["agents_of"][station.id]
    roll = rng.random()
    agent = rng.choice(agents) if agents and roll < 0.5 else None
    channel = "agent" if agent else ("open311" if roll > 0.95 else "station")
    level = routing.settling_level("village", matter.lowest_level)
    point = _point(network, station, level)
    opened_at = _moment(opened_on, rng)
    ticket = Ticket(matter_code=matter.code, opened_point_id=station.id, service_point_id=point.id,
                    level=level, status="open", township_id=station.township_id, branch_id=station.unit_id,
                    channel=channel, requester_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    requester_phone=f"13{rng.randrange(10**8, 10**9)}", description=f"{matter.name}",
                    agent_id=agent.id if agent else None, opened_at=opened_at, opened_on=opened_on,
                    received_on=opened_on, due_on=sla.due_on(calendar, opened_on, matter.time_limit_days),
                    breached_here=False, ever_breached=False, paused_days=0, escalations=0, reopen_count=0,
                    updated_at=opened_at)
    if agent:
        ticket.consent_method, ticket.consent_given_on = "signature", opened_on
        ticket.consent_reference = f"代办委托书-{opened_on:%Y%m%d}-{rng.randrange(1000):03d}"
    index = len(plan.tickets)
    plan.tickets.append(ticket)
    handler = agent.name if agent else "值班干部"
    plan.changes.append((index, dict(at=opened_at, action="open", by=handler, from_status=None,
                                     to_status="open", level=level, service_point_id=point.id,
                                     note=f"{matter.name}: handled by {point.name}")))
    day, moment = opened_on, opened_at
    _change(plan, index, ticket, "accept", "accepted", moment + timedelta(minutes=20), handler)
    fate = rng.random()
    if ticket.level != "city" and fate < 0.08 and calendar.add(day, 1) < today:   # cannot settle here
        day = calendar.add(day, 1)
        moment = _moment(day, rng)
        _escalate(plan, index, ticket, network, settings, day, moment, "cannot_settle", handler)
    elif ticket.level != "city" and fate < 0.12 and ticket.due_on + timedelta(days=1) < today:
        day = ticket.due_on + timedelta(days=1)                  # the time limit ran out
        moment = _local(day, time(0, 5))
        plan.events.append((index, "sla_breached"))
        ticket.ever_breached = True
        _change(plan, index, ticket, "breach", ticket.status, moment, SCHEDULER)
        _escalate(plan, index, ticket, network, settings, day, moment, "time_limit", SCHEDULER)
    if rng.random() < 0.15:                                    # waiting on the villager
        paused_on = calendar.add(day, 1)
        resumed_on = calendar.add(paused_on, rng.randint(1, 3))
        if resumed_on <= today:
            _change(plan, index, ticket, "wait", "waiting", _moment(paused_on, rng), handler,
                    "waiting on the villager: clock paused")
            ticket.due_on, paused = sla.due_after_pause(calendar, ticket.due_on, paused_on, resumed_on)
            ticket.paused_days += paused
            moment = max(_moment(resumed_on, rng), moment + timedelta(minutes=30))
            _change(plan, index, ticket, "resume", "in_progress", moment, handler)
            day = resumed_on
    limit = matter.time_limit_days
    took = rng.choice([0, 0, 1, 1, 1, 2, 2, 3, limit, limit]) if limit > 1 else rng.choice([0, 1])
    resolved_on = calendar.add(day, min(took, max(calendar.count(day, ticket.due_on), 0)))
    if resolved_on >= today:                                   # still being handled
        ticket.updated_at = moment
        return
    resolved_at = max(_moment(resolved_on, rng), moment + timedelta(minutes=30))
    ticket.resolved_at, ticket.resolved_on, ticket.resolved_level = resolved_at, resolved_on, ticket.level
    ticket.outcome = "已办结"
    ticket.working_days = sla.working_days_taken(calendar, ticket.opened_on, resolved_on, ticket.paused_days)
    _change(plan, index, ticket, "resolve", "resolved", resolved_at, handler, "已办结")
    plan.events.append((index, "ticket_resolved"))
    if rng.random() < 0.7:
        ticket.rating = rng.choice(RATINGS)
        _change(plan, index, ticket, "rate", "resolved", resolved_at + timedelta(hours=2), ticket.requester_name,
                f"rated {ticket.rating}")
    if resolved_on + timedelta(days=settings.auto_close_days) < today:
        closed_at = _moment(resolved_on + timedelta(days=settings.auto_close_days + 1), rng)
        ticket.closed_at = closed_at
        _change(plan, index, ticket, "close", "closed", closed_at, SCHEDULER,
                "closed automatically: no reopening within the days allowed")
    ticket.updated_at = ticket.closed_at or resolved_at


def _point(network, station, level):
    if level == "village":
        return station
    if level == "township":
        return network["centres"].get(station.township_id) or network["city"]
    return network["city"]


def _escalate(plan, index, ticket, network, settings, day, moment, reason, by):
    to_level = lifecycle.next_level(ticket.level)
    station = next(s for s in network["stations"] if s.id == ticket.opened_point_id)
    point = _point(network, station, to_level)
    matter = network["matters"][ticket.matter_code]
    ticket.level, ticket.service_point_id, ticket.received_on = to_level, point.id, day
    ticket.due_on = sla.due_on(settings.calendar, day, matter.time_limit_days)
    ticket.escalations += 1
    _change(plan, index, ticket, "escalate", "open", moment, by, f"escalated to {point.name} ({reason})")
    _change(plan, index, ticket, "accept", "accepted", moment + timedelta(minutes=30), "值班干部")


def _change(plan, index, ticket, action, status, at, by, note=None):
    plan.changes.append((index, dict(at=at, action=action, by=by[:100], from_status=ticket.status,
                                     to_status=status, level=ticket.level,
                                     service_point_id=ticket.service_point_id, note=note)))
    ticket.status = status


def _write(session, plan, network) -> dict:
    for ticket in plan.tickets:
        if ticket.status == "resolved" and ticket.closed_at is not None:
            ticket.status = "closed"
    session.add_all(plan.tickets)
    session.flush()
    session.execute(TicketChange.__table__.insert(), [
        {"ticket_id": plan.tickets[index].id, **change} for index, change in plan.changes])
    members = network["members"]
    agent_member = {a.id: members.get(a.member_id) for a in network["agents"]}
    events = []
    for index, kind in plan.events:
        ticket = plan.tickets[index]
        member = agent_member.get(ticket.agent_id)
        if kind == "ticket_resolved":
            data = payloads.resolved(ticket, member, ticket.resolved_on)
        else:
            data = _breach_payload(ticket, member, plan, index)
        events.append((kind, data))
    session.publish_many(events, validate="first")
    return {"tickets": len(plan.tickets), "resolved": sum(1 for t in plan.tickets if t.resolved_on),
            "events": len(events)}


def _breach_payload(ticket, member, plan, index) -> dict:
    breach = next(c for i, c in plan.changes if i == index and c["action"] == "breach")
    day = sla.local_date(breach["at"])
    place = {**payloads.place(ticket, day), "level": breach["level"],
             "service_point_id": breach["service_point_id"]}
    return {**place, **payloads.agent_fields(ticket, member),
            "due_on": (day - timedelta(days=1)).isoformat(), "escalated_to": lifecycle.next_level(breach["level"])}
