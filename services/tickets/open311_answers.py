"""The Open311 GeoReport v2 answers, from the tickets store, for the RPCs the gateway's Open311
endpoint calls (``services/gateway/open311.py`` speaks HTTP; this module never sees a request).

Each function takes plain data (``args``: the query string, ``form``: a POST's form, both as
dicts of text; the path's parts) and returns ``(status, body)``: the spec's JSON value, or its
error list ``[{"code", "description"}]`` with the HTTP status to answer. ``plain`` and ``part``
refuse, with ``InvalidInput`` naming the parameter, what no HTTP request carries (a non-text
value, control characters, a value past 10,000 characters). Shapes and the argument rules are in
``open311``."""
from __future__ import annotations

import hmac
import logging
from datetime import datetime

from marshmallow import Schema, ValidationError, validates_schema
from sqlalchemy import select

from services.tickets import catalogue, network, open311, payloads, schemas, ticket_flow
from services.tickets.models import Matter, ServicePoint, Ticket
from services.tickets.open311 import Open311Error
from shared import inputs
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)
BASE = "/open311/v2"
CHANGESET = "2026-11-01"
MAX_NAME, MAX_VALUE, MAX_PART = 100, 10_000, 200


# -- the RPCs' arguments ------------------------------------------------------------------------

def plain(value, field) -> dict:
    """A query or form (``field``: ``args`` or ``form``) as a dict of text; None is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput({field: ["must be a mapping of parameter names to text"]})
    problems = {}
    for name, text in value.items():
        if not isinstance(name, str) or len(name) > MAX_NAME or inputs.control_characters(name):
            problems[str(name)] = [f"is not a parameter name (text of at most {MAX_NAME} "
                                   "characters without control characters)"]
        elif not isinstance(text, str):
            problems[name] = ["must be text"]
        elif inputs.control_characters(text, multiline=True):
            found = inputs.control_characters(text, multiline=True)
            problems[name] = [f"must not contain control characters (found {', '.join(found[:3])})"]
        elif len(text) > MAX_VALUE:
            problems[name] = [f"must be at most {MAX_VALUE} characters"]
    if problems:
        raise InvalidInput(problems)
    return dict(value)


def part(value, field) -> str:
    """One part of the path (the format, a service code, a request id, the host's URL)."""
    return inputs.text(value, field, max_length=MAX_PART)


# -- errors ---------------------------------------------------------------------------------------

def error_answer(exc) -> tuple[int, list[dict]]:
    """(status, the spec's error list) for an Open311 error or one of the service's refusals."""
    if isinstance(exc, Open311Error):
        return exc.status, exc.body()
    if isinstance(exc, InvalidInput):
        return 400, [{"code": 400, "description": f"{field}: {'; '.join(map(str, reasons))}"}
                     for field, reasons in exc.errors.items()]
    if isinstance(exc, NotFound):
        return 404, [{"code": 404, "description": str(exc)}]
    if isinstance(exc, Forbidden):
        return 403, [{"code": 403, "description": str(exc)}]
    return 400, [{"code": 400, "description": str(exc)}]


ANSWERED = (Open311Error, InvalidInput, NotFound, Conflict, Forbidden)


def respond(work) -> tuple[int, object]:
    """``(200, work())``, or the error answer of what it raised; a fault is the spec's
    "general service error" (its traceback goes to the log)."""
    try:
        return 200, work()
    except ANSWERED as refused:
        return error_answer(refused)
    except Exception:
        log.exception("open311 request failed")
        return 400, [{"code": 400, "description": "general service error: please tell the "
                                                  "county's service office"}]


def _common(settings, args, fmt, form=None):
    open311.check_format(fmt)
    given = (form or {}).get("jurisdiction_id") or args.get("jurisdiction_id")
    open311.check_jurisdiction(given, settings.jurisdiction_id)


# -- the endpoints --------------------------------------------------------------------------------

def discovery(host_url: str):
    """``host_url``: the public root the client called (``https://host/``)."""
    return respond(lambda: open311.discovery(host_url.rstrip("/") + BASE, CHANGESET))


def services(store, settings, args, fmt):
    def work():
        _common(settings, args, fmt)
        with store.reading() as session:
            return [open311.service_entry(m) for m in catalogue.list_matters(session)]
    return respond(work)


def definition(store, settings, args, service_code, fmt):
    def work():
        _common(settings, args, fmt)
        with store.reading() as session:
            matter = _matter(session, service_code)
            stations = [p for p in network.list_points(session, level="village") if p["active"]]
            return open311.definition(catalogue.matter_dict(matter), stations)
    return respond(work)


def _matter(session, code) -> Matter:
    found = session.get(Matter, code) if isinstance(code, str) and len(code) <= 40 else None
    if found is None or not found.active:
        raise Open311Error(404, f"service_code {code!r} was not found")
    return found


class PostedRequest(Schema):
    """A POST's form arguments, checked like every RPC input (then mapped to a ticket)."""
    service_code = inputs.Code(required=True, max_length=40)
    station = inputs.Integer(required=True, minimum=1, maximum=inputs.MAX_ID)
    lat = inputs.Decimal(9, 6, allow_none=True)
    long = inputs.Decimal(9, 6, allow_none=True)
    address_string = inputs.Text(max_length=200, allow_none=True)
    address_id = inputs.Text(max_length=60, allow_none=True)
    first_name = inputs.Text(max_length=30, allow_none=True)
    last_name = inputs.Text(max_length=30, allow_none=True)
    phone = inputs.Code(max_length=20, allow_none=True, validate=schemas.PHONE)
    description = inputs.Text(max_length=4000, multiline=True, allow_none=True)
    account_id = inputs.Text(max_length=60, allow_none=True)

    @validates_schema
    def ranges(self, data, **kwargs):
        if data.get("lat") is not None and not -90 <= data["lat"] <= 90:
            raise ValidationError("must be from -90 to 90", "lat")
        if data.get("long") is not None and not -180 <= data["long"] <= 180:
            raise ValidationError("must be from -180 to 180", "long")


POSTED_FIELDS = set(PostedRequest._declared_fields) - {"station"}


def _client(settings, form, args) -> str:
    key = form.get("api_key") or args.get("api_key")
    if not key:
        raise Open311Error(403, "api_key was not provided -- can't proceed with create_request")
    for known, client in settings.open311_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            return client
    raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request")


def _posted(form) -> dict:
    if not form.get("service_code"):
        raise Open311Error(400, "service_code was not provided")
    if not ((form.get("lat") and form.get("long")) or form.get("address_string")
            or form.get("address_id")):
        raise Open311Error(400, "a location is required: lat and long, address_string or "
                                "address_id")
    if not form.get("attribute[station]"):
        raise Open311Error(400, "attribute[station] is required: the service definition lists "
                                "the stations")
    raw = {name: form[name] for name in POSTED_FIELDS if form.get(name)}
    raw["station"] = form["attribute[station]"]
    try:
        return PostedRequest().load(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else \
            {"_schema": error.messages}
        raise InvalidInput({("attribute[station]" if k == "station" else k): v
                            for k, v in messages.items()}) from None


def _ticket_data(store, settings, form, args, fmt) -> tuple[dict, str, dict]:
    """(the ticket to open, the client, its matter) from a POST, or an Open311 error."""
    _common(settings, args, fmt, form)
    client = _client(settings, form, args)
    posted = _posted(form)
    with store.reading() as session:
        matter = catalogue.matter_dict(_matter(session, posted["service_code"]))
        point = session.get(ServicePoint, posted["station"])
        if point is None or point.level != "village":
            raise Open311Error(400, f"attribute[station] {posted['station']} is not a service "
                                    "station")
    name = "".join(filter(None, (posted.get("last_name"), posted.get("first_name"))))
    address = posted.get("address_string") or (
        f"address_id {posted['address_id']}" if posted.get("address_id") else None)
    data = {"service_point_id": posted["station"], "matter_code": posted["service_code"],
            "requester_name": name or f"{client} (Open311)",
            "requester_phone": posted.get("phone"), "description": posted.get("description"),
            "address": address, "lat": posted.get("lat"), "long": posted.get("long"),
            "by": f"open311:{client}", "account_id": posted.get("account_id")}
    return data, client, matter


def create(store, settings, now: datetime, form, args, fmt):
    """A POST: what the request gets wrong is answered as an error; a refusal while the ticket
    is written (the station closed meanwhile) is raised, so the write RPC stores nothing, and
    the gateway answers it in the same error shape."""
    try:
        data, client, matter = _ticket_data(store, settings, form, args, fmt)
    except ANSWERED as refused:
        return error_answer(refused)
    account_id = data.pop("account_id")
    with store.transaction() as session:
        ticket = ticket_flow.open_ticket(session, settings, data, now, channel="open311",
                                         client=client)
        agency = session.get(ServicePoint, ticket["service_point_id"]).name
    return 200, [open311.created_entry(ticket, agency, matter, account_id)]


def request_id(value) -> int | None:
    """A service_request_id as a ticket id (digits typed full-width too), None when it is not
    one."""
    digits = inputs.normalise_digits(value)
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else None


def _ids(value) -> list[int]:
    ids = []
    for piece in open311.split(value):
        if request_id(piece) is None:
            raise Open311Error(400, f"service_request_id {piece!r} is not a request id")
        ids.append(request_id(piece))
    return ids


def requests(store, settings, now: datetime, args, fmt):
    def work():
        _common(settings, args, fmt)
        limit = int(settings.rule("open311", "max_results"))
        query = select(Ticket).order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(limit)
        ids = _ids(args.get("service_request_id"))
        if ids:
            query = query.where(Ticket.id.in_(ids))
        else:
            start, end = open311.period(args, now, int(settings.rule("open311", "default_days")))
            query = query.where(Ticket.opened_at >= ticket_flow.stamp(start),
                                Ticket.opened_at <= ticket_flow.stamp(end))
            codes = open311.split(args.get("service_code"))
            if codes:
                query = query.where(Ticket.matter_code.in_(codes))
            wanted = open311.split(args.get("status"))
            for status in wanted:
                if status not in ("open", "closed"):
                    raise Open311Error(400, f"status {status!r} is not open or closed")
            if wanted and len(set(wanted)) == 1:
                statuses = open311.OPEN_STATUSES if wanted[0] == "open" else \
                    open311.CLOSED_STATUSES
                query = query.where(Ticket.status.in_(statuses))
        with store.reading() as session:
            return _entries(session, session.scalars(query).all())
    return respond(work)


def one(store, settings, args, service_request_id, fmt):
    def work():
        _common(settings, args, fmt)
        wanted = request_id(service_request_id)
        if wanted is None:
            raise Open311Error(404, f"service_request_id {service_request_id!r} was not found")
        with store.reading() as session:
            ticket = session.get(Ticket, wanted)
            if ticket is None:
                raise Open311Error(404, f"service_request_id {service_request_id} was not found")
            return _entries(session, [ticket])
    return respond(work)


def _entries(session, tickets) -> list[dict]:
    matters = {m.code: m.name for m in session.scalars(select(Matter))}
    point_ids = {t.service_point_id for t in tickets}
    points = {p.id: p.name for p in session.scalars(
        select(ServicePoint).where(ServicePoint.id.in_(point_ids)))} if point_ids else {}
    return [open311.request_entry(payloads.ticket_dict(t),
                                  matters.get(t.matter_code, t.matter_code),
                                  points.get(t.service_point_id)) for t in tickets]
