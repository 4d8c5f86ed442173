"""What the affairs service does with its data: functions of a session, no nameko.

The service methods stay one line each around these, and tests call them on a real session
(``AffairsService.store.handle(url)``) without a broker."""
from services.affairs import rules
from services.affairs.models import Entry, Unit
from shared.errors import NotFound


def learn_unit(session, data):
    """Keep a local copy of an organisation unit from members' ``org_unit_created``."""
    session.merge(Unit(id=data["org_unit_id"], name=data["name"], kind=data["kind"]))


def record(session, data) -> dict:
    if session.get(Unit, data["unit_id"]) is None:
        raise NotFound(f"org unit {data['unit_id']} is not known to affairs (yet)")
    entry = Entry(unit_id=data["unit_id"], title=rules.tidy_title(data["title"]))
    session.add(entry)
    session.flush()
    payload = rules.entry_dict(entry)
    session.publish("entry_recorded", payload)
    return payload


def get(session, entry_id) -> dict:
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(f"entry {entry_id} does not exist")
    return rules.entry_dict(entry)
