"""The Open311 GeoReport v2 endpoint's requests, answered from the tickets store: each function
takes the store, the settings, the moment and the werkzeug request and returns nameko's
``(status, headers, body)``. Shapes and argument rules are in ``open311``."""
from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime

from marshmallow import Schema, ValidationError, validates_schema
from sqlalchemy import select

from services.tickets import catalogue, network, open311, payloads, schemas, ticket_flow
from services.tickets.models import Matter, ServicePoint, Ticket
from services.tickets.open311 import Open311Error
from shared import inputs
from shared.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
BASE = "/open311/v2"


def respond(work):
    """Run ``work()`` and answer its value as JSON, or the spec's error list."""
    try:
        status, body = 200, work()
    except Open311Error as error:
        status, body = error.status, error.body()
    except InvalidInput as refused:
        status = 400
        body = [{"code": 400, "description": f"{field}: {'; '.join(map(str, reasons))}"}
                for field, reasons in refused.errors.items()]
    except NotFound as missing:
        status, body = 404, [{"code": 404, "description": str(missing)}]
    except Conflict as refused:
        status, body = 400, [{"code": 400, "description": str(refused)}]
    except Exception:  # the spec's "general service error"; the traceback goes to the log
        log.exception("open311 request failed")
        status, body = 400, [{"code": 400, "description": "general service error: please tell "
                                                          "the county's service office"}]
    return status, dict(HEADERS), json.dumps(body, ensure_ascii=False)


def _common(settings, request, fmt, form=False):
    open311.check_format(fmt)
    source = request.form if form else request.args
    open311.check_jurisdiction(source.get("jurisdiction_id") or request.args.get("jurisdiction_id"),
                               settings.jurisdiction_id)


def discovery(settings, request):
    def work():
        return open311.discovery(request.host_url.rstrip("/") + BASE, "2026-11-01")
    return respond(work)


def services(store, settings, request, fmt):
    def work():
        _common(settings, request, fmt)
        with store.reading() as session:
            return [open311.service_entry(m) for m in catalogue.list_matters(session)]
    return respond(work)


def definition(store, settings, request, service_code, fmt):
    def work():
        _common(settings, request, fmt)
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


def _client(settings, request) -> str:
    key = request.form.get("api_key") or request.args.get("api_key")
    if not key:
        raise Open311Error(403, "api_key was not provided -- can't proceed with create_request")
    for known, client in settings.open311_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            return client
    raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request")


def _posted(request) -> dict:
    form = request.form
    if not form.get("service_code"):
        raise Open311Error(400, "service_code was not provided")
    if not ((form.get("lat") and form.get("long")) or form.get("address_string") or form.get("address_id")):
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    if not form.get("attribute[station]"):
        raise Open311Error(400, "attribute[station] is required: the service definition lists the stations")
    raw = {name: form.get(name) or None for name in POSTED_FIELDS if form.get(name)}
    raw["station"] = form.get("attribute[station]")
    try:
        return PostedRequest().load(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise InvalidInput({("attribute[station]" if k == "station" else k): v
                            for k, v in messages.items()}) from None


def create(store, settings, now: datetime, request, fmt):
    def work():
        _common(settings, request, fmt, form=True)
        client = _client(settings, request)
        posted = _posted(request)
        name = "".join(filter(None, (posted.get("last_name"), posted.get("first_name"))))
        address = posted.get("address_string") or (
            f"address_id {posted['address_id']}" if posted.get("address_id") else None)
        data = {"service_point_id": posted["station"], "matter_code": posted["service_code"],
                "requester_name": name or f"{client} (Open311)",
                "requester_phone": posted.get("phone"), "description": posted.get("description"),
                "address": address, "lat": posted.get("lat"), "long": posted.get("long"),
                "by": f"open311:{client}"}
        with store.transaction() as session:
            matter = _matter(session, data["matter_code"])
            point = session.get(ServicePoint, data["service_point_id"])
            if point is None or point.level != "village":
                raise Open311Error(400, f"attribute[station] {data['service_point_id']} is not a service station")
            ticket = ticket_flow.open_ticket(session, settings, data, now, channel="open311",
                                             client=client)
            agency = session.get(ServicePoint, ticket["service_point_id"]).name
            return [open311.created_entry(ticket, agency, catalogue.matter_dict(matter),
                                          posted.get("account_id"))]
    return respond(work)


def _ids(value) -> list[int]:
    ids = []
    for part in open311.split(value):
        if not part.isdigit() or len(part) > 18:
            raise Open311Error(400, f"service_request_id {part!r} is not a request id")
        ids.append(int(part))
    return ids


def requests(store, settings, now: datetime, request, fmt):
    def work():
        _common(settings, request, fmt)
        args = request.args
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
                statuses = open311.OPEN_STATUSES if wanted[0] == "open" else open311.CLOSED_STATUSES
                query = query.where(Ticket.status.in_(statuses))
        with store.reading() as session:
            return _entries(session, session.scalars(query).all())
    return respond(work)


def one(store, settings, request, service_request_id, fmt):
    def work():
        _common(settings, request, fmt)
        if not service_request_id.isdigit() or len(service_request_id) > 18:
            raise Open311Error(404, f"service_request_id {service_request_id!r} was not found")
        with store.reading() as session:
            ticket = session.get(Ticket, int(service_request_id))
            if ticket is None:
                raise Open311Error(404, f"service_request_id {service_request_id} was not found")
            return _entries(session, [ticket])
    return respond(work)


def _entries(session, tickets) -> list[dict]:
    matters = {m.code: m.name for m in session.scalars(select(Matter))}
    point_ids = {t.service_point_id for t in tickets}
    points = {p.id: p.name for p in session.scalars(
        select(ServicePoint).where(ServicePoint.id.in_(point_ids)))} if point_ids else {}
    return [open311.request_entry(payloads.ticket_dict(t), matters.get(t.matter_code, t.matter_code),
                                  points.get(t.service_point_id)) for t in tickets]
