"""Open311 GeoReport v2 shapes (pure): the service list, a service definition, service requests,
the POST reply and the error list, plus reading the query and form arguments.

Choices where the spec leaves room (written in the README too):

* JSON only (the spec makes XML required and JSON optional; the discovery document lists
  ``application/json`` alone); ``.xml`` is answered 400 in the JSON error shape.
* One jurisdiction (``config/tickets.yaml`` ``open311.jurisdiction_id``): the parameter is
  optional as the spec allows; another value is 404.
* ``api_key`` is required for POST only (403 when missing or unknown), as the spec says.
* Every service has ``metadata: true`` and ``type: realtime``: the definition has one required
  attribute, ``station`` (a ``singlevaluelist`` of the village and community service stations), the
  station that receives the request; a second, informational attribute lists the documents.
* Statuses: ``open`` for open, accepted, in progress and waiting; ``closed`` for resolved and closed.
* ``requested_datetime`` / ``updated_datetime`` in China time (+08:00); ``expected_datetime`` is
  the end of the current level's last working day.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from services.tickets import sla

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMAT = "json"
OPEN_STATUSES = ("open", "accepted", "in_progress", "waiting")
CLOSED_STATUSES = ("resolved", "closed")
FIRST_YEAR, LAST_YEAR = 1970, 2999        # start_date and end_date


class Open311Error(Exception):
    """An error answered as ``[{"code": ..., "description": ...}]`` with ``status`` as HTTP."""

    def __init__(self, status: int, description: str, code: int | None = None):
        super().__init__(description)
        self.status, self.description, self.code = status, description, code or status

    def body(self) -> list[dict]:
        return [{"code": self.code, "description": self.description}]


def check_format(fmt: str):
    if fmt != FORMAT:
        raise Open311Error(400, f"format {fmt!r} is not supported: use .json")


def check_jurisdiction(value: str | None, jurisdiction_id: str):
    """Optional (one jurisdiction is served); another jurisdiction is 404."""
    if value not in (None, "") and value != jurisdiction_id:
        raise Open311Error(404, f"jurisdiction_id {value!r} was not found: this endpoint serves "
                                f"{jurisdiction_id}")


def w3(moment: datetime) -> str:
    """A timestamp in the w3 subset of ISO 8601 with the China offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(sla.LOCAL).replace(microsecond=0).isoformat()


def end_of(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), tzinfo=sla.LOCAL).isoformat()


def parse_w3(value: str, field: str) -> datetime:
    """A w3 datetime (``2010-01-01T00:00:00Z``, with an offset, or a bare date taken as China
    midnight) as an aware UTC datetime."""
    text = (value or "").strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(), tzinfo=sla.LOCAL)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no timezone")
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise ValueError("out of range")
    except ValueError:
        raise Open311Error(400, f"{field} must be a w3 datetime with a timezone from "
                                f"{FIRST_YEAR} to {LAST_YEAR}, e.g. 2026-10-01T00:00:00+08:00") \
            from None
    return moment.astimezone(timezone.utc)


def service_entry(matter: dict) -> dict:
    keywords = ", ".join([matter["group"], *matter["documents"]]) if matter["group"] else \
        ", ".join(matter["documents"])
    return {"service_code": matter["code"], "service_name": matter["name"],
            "description": matter["description"] or matter["name"], "metadata": True,
            "type": "realtime", "keywords": keywords, "group": matter["group"] or None}


def definition(matter: dict, stations: list[dict]) -> dict:
    documents = "、".join(matter["documents"]) or "无"
    return {"service_code": matter["code"], "attributes": [
        {"variable": True, "code": "station", "datatype": "singlevaluelist", "required": True,
         "datatype_description": "the id of a village or community service station",
         "order": 1, "description": "受理的便民服务站 (the station that receives the request)",
         "values": [{"key": str(s["id"]), "name": s["name"]} for s in stations]},
        {"variable": False, "code": "documents", "datatype": "text", "required": False,
         "datatype_description": None, "order": 2,
         "description": f"所需材料 (documents to bring): {documents}; 时限 {matter['time_limit_days']} 个工作日",
         "values": []},
    ]}


def status_of(ticket_status: str) -> str:
    return "open" if ticket_status in OPEN_STATUSES else "closed"


def _notes(ticket: dict) -> str | None:
    if ticket["status"] in CLOSED_STATUSES:
        return ticket["outcome"]
    if ticket["status"] == "waiting":
        return "waiting on the requester or another department"
    return ticket["status"].replace("_", " ")


def request_entry(ticket: dict, matter_name: str, agency: str) -> dict:
    opened = datetime.fromisoformat(ticket["opened_at"].replace("Z", "+00:00"))
    updated = datetime.fromisoformat(ticket["updated_at"].replace("Z", "+00:00"))
    return {
        "service_request_id": ticket["id"], "status": status_of(ticket["status"]),
        "status_notes": _notes(ticket), "service_name": matter_name,
        "service_code": ticket["matter_code"], "description": ticket["description"] or None,
        "agency_responsible": agency, "service_notice": None,
        "requested_datetime": w3(opened), "updated_datetime": w3(updated),
        "expected_datetime": None if ticket["status"] in CLOSED_STATUSES else
        end_of(date.fromisoformat(ticket["due_on"])),
        "address": ticket["address"], "address_id": None, "zipcode": None,
        "lat": ticket.get("lat"), "long": ticket.get("long"), "media_url": None,
    }


def created_entry(ticket: dict, agency: str, matter: dict, account_id: str | None) -> dict:
    documents = "、".join(matter["documents"]) or "无"
    notice = (f"{agency}受理，{ticket['due_on']}前办结（{matter['time_limit_days']}个工作日）；"
              f"所需材料：{documents}")
    return {"service_request_id": ticket["id"], "service_notice": notice,
            "account_id": account_id or None}


def split(value: str | None) -> list[str]:
    """A comma-delimited argument as its non-empty parts."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def period(args, now: datetime, default_days: int) -> tuple[datetime, datetime]:
    """``start_date``/``end_date`` (at most ``default_days`` apart; the last ``default_days``
    days when neither is given)."""
    span = timedelta(days=default_days)
    start = parse_w3(args["start_date"], "start_date") if args.get("start_date") else None
    end = parse_w3(args["end_date"], "end_date") if args.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > span:
        raise Open311Error(400, f"start_date and end_date may not span more than {default_days} days")
    return start, end


def discovery(base_url: str, changeset: str) -> dict:
    return {"changeset": changeset, "contact": "县委组织部便民服务办公室",
            "key_service": "api_key: ask the county for one (POST only)",
            "endpoints": [{"specification": SPEC, "url": base_url, "changeset": changeset,
                           "type": "production", "formats": ["application/json"]}]}
