"""The service catalogue (办事事项): each matter with the lowest level that can settle it, the
documents required and the time limit in working days (functions of a session)."""
from __future__ import annotations

from sqlalchemy import select

from services.tickets.models import Matter
from shared.errors import Conflict, NotFound


def define(session, data) -> dict:
    """Add a matter or change one (same code); tickets already open keep their due dates."""
    matter = session.get(Matter, data["code"]) or Matter(code=data["code"])
    matter.name = data["name"]
    matter.group = data.get("group") or ""
    matter.description = data.get("description") or ""
    matter.lowest_level = data["lowest_level"]
    matter.time_limit_days = data["time_limit_days"]
    matter.documents = list(data.get("documents") or [])
    matter.active = data.get("active", True)
    session.add(matter)
    session.flush()
    return matter_dict(matter)


def matter(session, code, active=False) -> Matter:
    found = session.get(Matter, code)
    if found is None:
        raise NotFound(f"matter {code!r} is not in the service catalogue")
    if active and not found.active:
        raise Conflict(f"matter {code!r} ({found.name}) is withdrawn from the catalogue")
    return found


def matter_dict(matter: Matter) -> dict:
    return {"code": matter.code, "name": matter.name, "group": matter.group,
            "description": matter.description, "lowest_level": matter.lowest_level,
            "time_limit_days": matter.time_limit_days, "documents": list(matter.documents or []),
            "active": matter.active}


def list_matters(session, include_withdrawn=False) -> list[dict]:
    query = select(Matter).order_by(Matter.code)
    if not include_withdrawn:
        query = query.where(Matter.active.is_(True))
    return [matter_dict(m) for m in session.scalars(query)]
