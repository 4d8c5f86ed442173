"""Load the demo county's three teams into the talent database (``jiceng run --demo`` calls
``TalentService.load_demo_live`` once every service answers).

It asks the members service (``cluster.members``) for the organisation tree and a few members of
each village and institution branch, keeps them in the directory (so nothing waits for members'
events), generates the rest (``demo.generate``) and writes it in one transaction (again, on PostgreSQL,
when it deadlocks with the directory subscription learning the same members), with the
``cadre_appointed`` and ``training_attended`` events it implies in the outbox (the stars rulebook
scores the training of cadres who are members)."""
import logging
from datetime import date

from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from services.talent import cadres, demo, directory, training
from services.talent import posts as posts_module
from services.talent.clock import china_today
from services.talent.plain import plain
from services.talent.models import (Attendance, Cadre, Cooperative, Course, DemonstrationZone,
                                    DutyItem, OnlineShop, PartyProject, Post, ReserveEntry,
                                    ReviewVotes, ShopSales, TrainingBase, TrainingSession,
                                    VillageStatus, WealthLeader)
from shared import config as config_module

log = logging.getLogger(__name__)
DEADLOCK = "40P01"         # PostgreSQL: the directory subscription upserting the same members
WRITE_ATTEMPTS = 3
VILLAGE_MEMBERS = 15       # asked per village branch: secretaries, reserve, leaders come from them
INSTITUTION_MEMBERS = 60   # asked per institution branch: township and first secretaries
PARALLEL = 100             # RPCs in flight at once


def load_live(service_cls, config, cluster, scale=1.0, today=None, seed=2017):
    store = service_cls.store.handle(config_module.database_url(config, service_cls.name),
                                     source=service_cls.name)
    with store.reading() as session:
        if cadres.has_cadres(session):
            return None
    today = today or china_today()
    units, members_of = fetch(cluster)
    county = demo.generate(units, members_of, today, seed=seed, scale=scale)
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with store.transaction() as session:
                write(session, county, today)
            return county.summary()
        except OperationalError as exc:
            if attempt == WRITE_ATTEMPTS or getattr(exc.orig, "pgcode", None) != DEADLOCK:
                raise
            log.info("talent demo: deadlock with the directory subscription, writing again "
                     "(attempt %s of %s)", attempt + 1, WRITE_ATTEMPTS)


def fetch(cluster):
    """The whole organisation tree and some members of each village and institution branch."""
    townships = cluster.members.list_townships()
    if not townships:
        return [], {}
    root = townships[0]["parent_id"] or townships[0]["id"]
    units = cluster.members.list_subtree(root)
    wanted = [(u["id"], VILLAGE_MEMBERS if u["kind"] == "village_branch" else INSTITUTION_MEMBERS)
              for u in units if u["kind"] in ("village_branch", "institution_branch")]
    members_of = {}
    for start in range(0, len(wanted), PARALLEL):
        calls = [(unit_id, cluster.members.list_members.call_async(unit_id, "active", 0, limit))
                 for unit_id, limit in wanted[start:start + PARALLEL]]
        for unit_id, reply in calls:
            members_of[unit_id] = reply.result()
    return units, members_of


def write(session, county: demo.Demo, today: date):
    directory.keep_units(session, [{"id": u["id"], "parent_id": u["parent_id"],
                                    "township_id": u["township_id"], "kind": u["kind"],
                                    "name": u["name"], "dissolved": bool(u.get("dissolved_on"))}
                                   for u in county.units])
    township_of = {u["id"]: u["township_id"] for u in county.units}
    directory.keep_members(session, [{"id": m["id"], "name": m["name"][:50],
                                      "branch_id": m["branch_id"],
                                      "township_id": township_of.get(m["branch_id"]),
                                      "category": m["category"], "status": m["status"],
                                      "active": m["state"] == "active"} for m in county.members])
    people = [Cadre(**p["profile"], registered_on=today) for p in county.people]
    session.add_all(people)
    session.flush()
    ids = [c.id for c in people]
    session.execute(insert(VillageStatus), county.statuses)
    posts = [Post(cadre_id=ids[k], **p["post"]) for k, p in enumerate(county.people) if p["post"]]
    session.add_all(posts)
    _rows(session, ReserveEntry, [{"cadre_id": ids[k], "state": "active", **p["reserve"]}
                                  for k, p in enumerate(county.people) if p["reserve"]])
    _rows(session, WealthLeader, [{"cadre_id": ids[k], **p["leader"]}
                                  for k, p in enumerate(county.people) if p["leader"]])
    _rows(session, Cooperative, [{**_without(c, "leader"), "leader_id": _id(ids, c["leader"])}
                                 for c in county.cooperatives])
    _rows(session, DemonstrationZone, [{**_without(z, "leader"), "leader_id": ids[z["leader"]]}
                                       for z in county.zones])
    shops = [OnlineShop(leader_id=ids[s["leader"]], township_id=s["township_id"],
                        platform=s["platform"], name=s["name"]) for s in county.shops]
    session.add_all(shops)
    session.flush()
    _rows(session, ShopSales, [{"shop_id": shop.id, "year": year, "amount": amount}
                               for shop, s in zip(shops, county.shops)
                               for year, amount in s["sales"].items()])
    _duties(session, county, ids)
    _rows(session, ReviewVotes, [{**_without(v, "person"), "cadre_id": ids[v["person"]]}
                                 for v in county.votes])
    by_id = {c.id: c for c in people}
    events = [("cadre_appointed", plain(_appointed(post, by_id[post.cadre_id]))) for post in posts]
    events += _training(session, county, ids, by_id)
    session.publish_many(events, validate="first")


def _training(session, county, ids, by_id) -> list:
    """Bases, courses, sessions and attendance; the ``training_attended`` events (a member's
    place as the directory has it, else ``training.place_of``)."""
    kept = {m["id"]: m for m in county.members}
    bases = [TrainingBase(**b) for b in county.bases]
    courses = [Course(**c) for c in county.courses]
    session.add_all(bases + courses)
    session.flush()
    held = [TrainingSession(course_id=courses[s["course"]].id, base_id=bases[s["base"]].id,
                            held_on=s["held_on"], hours=s["hours"]) for s in county.sessions]
    session.add_all(held)
    session.flush()
    rows = [Attendance(session_id=held[a["session"]].id, cadre_id=ids[a["person"]],
                       hours=held[a["session"]].hours, held_on=held[a["session"]].held_on)
            for a in county.attendance]
    session.add_all(rows)
    session.flush()
    township_of = {u["id"]: u["township_id"] for u in county.units}
    places = {cadre.id: (member["branch_id"], township_of.get(member["branch_id"]),
                         member["category"])
              for cadre in by_id.values() for member in [kept.get(cadre.member_id)] if member}
    events = []
    for row, a in zip(rows, county.attendance):
        cadre = by_id[row.cadre_id]
        if cadre.id not in places:
            with session.no_autoflush:
                places[cadre.id] = training.place_of(session, cadre)
        events.append(("training_attended", plain(training.attended_payload(
            row, cadre, held[a["session"]], courses[county.sessions[a["session"]]["course"]],
            places[cadre.id]))))
    return events


def _duties(session, county, ids):
    items = [DutyItem(cadre_id=ids[d["person"]], township_id=d["township_id"],
                      list_kind=d["list_kind"], title=d["title"], owner=d["owner"],
                      deadline=d["deadline"], status=d["status"], done_on=d["done_on"],
                      created_on=d["created_on"]) for d in county.duties]
    session.add_all(items)
    session.flush()
    for item, d in zip(items, county.duties):
        if d["problem"] is not None:
            item.problem_id = items[d["problem"]].id
    _rows(session, PartyProject, [{**_without(p, "person"), "cadre_id": ids[p["person"]]}
                                  for p in county.projects])


def _appointed(post: Post, cadre: Cadre) -> dict:
    return {**posts_module.event_payload(cadre, post), "occurred_on": post.started_on}


def _rows(session, model, rows):
    if rows:
        session.execute(insert(model), rows)


def _without(row, *keys) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def _id(ids, key):
    return None if key is None else ids[key]

