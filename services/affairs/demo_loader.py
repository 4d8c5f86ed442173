"""Load a year of matters for the demo county (``jiceng run --demo``): the organisation ids come
from the members service over RPC, the matters are written straight into the affairs database
through the service's own functions (so statuses, violations, publications, hash chains and the
outbox events are exactly what the RPCs would have produced), one transaction per township."""
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from services.affairs import demo, matters, powerlist, steps, supervision
from services.affairs.models import Matter, Unit
from shared import config as config_module


def units_of(cluster) -> list[dict]:
    """Every township and the units under it, as members' ``org_unit_created`` would say."""
    found = []
    for township in cluster.members.list_townships():
        for unit in cluster.members.list_subtree(township["id"]):
            found.append({"org_unit_id": unit["id"], "parent_id": unit["parent_id"],
                          "township_id": unit["township_id"], "kind": unit["kind"],
                          "name": unit["name"]})
    return found


def apply(session, rules, script: dict) -> Matter:
    """Play one matter's script through the service's functions."""
    matter = matters.open_matter(session, rules, script["proposal"])
    unit = session.get(Unit, matter.branch_id)
    objection_id = None
    for action, data in script["actions"]:
        if action == "step":
            steps.record(session, rules, matter, unit, data)
        elif action == "progress":
            matters.progress(session, rules, matter.id, data)
        elif action == "sign_off":
            supervision.sign_off(session, rules, matter.id, data)
        elif action == "objection":
            objection_id = supervision.raise_objection(session, rules, matter.id, data)["id"]
        else:
            supervision.answer_objection(session, objection_id, data)
    return matter


def load(store, rules, units: list[dict], today: date, scale: float = 1.0) -> dict | None:
    """Write the year into ``store`` (a ``Store.handle``); None when it was there already. A
    township whose villages already have matters is skipped, so a load cut short completes."""
    with store.transaction() as session:
        for unit in units:
            matters.learn_unit(session, unit)
    villages = [{"id": u["org_unit_id"], "name": u["name"], "township_id": u["township_id"]}
                for u in units if u["kind"] in rules.proposing_unit_kinds]
    if not villages:
        return None
    scripts = demo.plan(villages, today, rules, scale)
    township_of = {v["id"]: v["township_id"] for v in villages}
    by_township: dict = {}
    for script in scripts:
        by_township.setdefault(township_of[script["proposal"]["branch_id"]], []).append(script)
    with store.reading() as session:
        loaded = set(session.scalars(select(Matter.township_id).distinct()))
    statuses, written = Counter(), 0
    for township_id, group in sorted(by_township.items(), key=lambda kv: kv[0] or 0):
        if township_id in loaded:
            continue
        with store.transaction() as session:
            for script in group:
                statuses[apply(session, rules, script).status] += 1
            written += len(group)
    if not written:
        return None
    with store.reading() as session:
        total = session.scalar(select(func.count()).select_from(Matter))
        villages_with = session.scalar(select(func.count(func.distinct(Matter.branch_id))))
    return {"matters": total, "villages": villages_with, "written_now": written,
            "by_status": dict(sorted(statuses.items()))}


def load_live(config, cluster, scale: float = 1.0) -> dict | None:
    from services.affairs.service import AffairsService
    store = AffairsService.store.handle(config_module.database_url(config, "affairs"))
    return load(store, powerlist.settings(config), units_of(cluster), date.today(), scale)
