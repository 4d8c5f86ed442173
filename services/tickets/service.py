"""The tickets service: the three-level service network (三级平台、两个代办) and villagers'
tickets through it, with time limits in working days, measures, and the Open311 answers the
gateway's ``/open311`` endpoint serves."""
import logging

from nameko.timer import Timer

from services.tickets import api as http_api
from services.tickets import (catalogue, directory, network, open311_answers, reports,
                              scheduler, schemas, sla, ticket_flow)
from services.tickets import settings as settings_module
from services.tickets.clock import Clock
from services.tickets.models import Base, KnownMember, Unit
from shared import inputs
from shared.bus import Store, rpc_write, subscribe_batch
from shared.bus.refusals import rpc
from shared.errors import InvalidInput, NotFound
from shared.service import ServiceBase

log = logging.getLogger(__name__)


class ScanTimer(Timer):
    """nameko's ``@timer`` with its interval from ``services.tickets.scan_interval_seconds``."""

    def setup(self):
        self.interval = settings_module.load(self.container.config).scan_interval_seconds


class TicketsService(ServiceBase):
    api = http_api.ROUTES
    name = "tickets"
    publishes = ("ticket_opened", "ticket_escalated", "ticket_resolved", "ticket_closed",
                 "ticket_rated", "sla_warning", "sla_breached")
    store = Store(Base.metadata)
    settings = settings_module.TicketSettings()
    clock = Clock()
    scope_units = Unit

    # -- scope: whose unit a call acts on (the ``owner`` of routes in ``api``) -----------------
    # Called with the RPC's own arguments before it runs, for a caller bound to one unit; None
    # (no such object, or not an id) leaves the answer to the RPC itself.
    def unit_of_ticket(self, ticket_id, payload=None, by=None):
        """The unit a ticket concerns (``ticket_flow.unit_of``)."""
        return self._owner(ticket_flow.unit_of, ticket_id)

    def units_of_reassignment(self, ticket_id, payload=None, by=None):
        """The ticket's unit and the unit hosting the service point it is handed to."""
        ticket_unit = self.unit_of_ticket(ticket_id)
        if ticket_unit is None:
            return None
        target = payload.get("service_point_id") if isinstance(payload, dict) else None
        target_unit = self.unit_of_service_point(target)
        return [ticket_unit] if target_unit is None else [ticket_unit, target_unit]

    def unit_of_opening(self, payload, by=None):
        """The unit hosting the service point a new ticket is opened at."""
        point = payload.get("service_point_id") if isinstance(payload, dict) else None
        return self.unit_of_service_point(point)

    def unit_of_service_point(self, service_point_id, payload=None):
        return self._owner(network.unit_of_point, service_point_id)

    def unit_of_agent(self, agent_id):
        return self._owner(network.unit_of_agent, agent_id)

    def unit_of_new_agent(self, payload):
        point = payload.get("service_point_id") if isinstance(payload, dict) else None
        return self.unit_of_service_point(point)

    def _owner(self, find, object_id):
        if isinstance(object_id, bool) or not isinstance(object_id, int) \
                or not 1 <= object_id <= inputs.MAX_ID:
            return None
        with self.store.reading() as session:
            return find(session, object_id)

    # -- directory: learned from the members service --------------------------------------------
    @subscribe_batch(bindings_from=lambda config: directory.BINDINGS)
    def on_directory(self, events):
        with self.store.handling_batch(events) as (session, fresh):
            directory.learn(session, fresh)

    @rpc
    def known_unit(self, unit_id):
        with self.store.reading() as session:
            return directory.unit_dict(_found(session, Unit, inputs.positive_id(
                unit_id, "unit_id"), "org unit"))

    @rpc
    def known_member(self, member_id):
        with self.store.reading() as session:
            return directory.member_dict(_found(session, KnownMember, inputs.positive_id(
                member_id, "member_id"), "member"))

    # -- the network ----------------------------------------------------------------------------
    @rpc_write
    def register_service_point(self, payload):
        data = schemas.load(schemas.ServicePointInput, payload)
        with self.store.transaction() as session:
            return network.register_point(session, data)

    @rpc
    def get_service_point(self, service_point_id):
        with self.store.reading() as session:
            return network.point_detail(session, inputs.positive_id(service_point_id, "service_point_id"))

    @rpc
    def list_service_points(self, level=None, township_id=None, unit_id=None):
        """``unit_id``: the points hosted by that unit or a unit under it (``network``)."""
        level = None if level is None else inputs.choice(level, "level", ("village", "township", "city"))
        township_id = None if township_id is None else inputs.positive_id(township_id, "township_id")
        unit_id = None if unit_id is None else inputs.positive_id(unit_id, "unit_id")
        with self.store.reading() as session:
            return network.list_points(session, level, township_id, unit_id)

    @rpc_write
    def set_duty_rota(self, service_point_id, payload):
        point_id = inputs.positive_id(service_point_id, "service_point_id")
        data = schemas.load(schemas.RotaInput, payload)
        with self.store.transaction() as session:
            return network.set_rota(session, point_id, data["shifts"])

    @rpc
    def on_duty(self, service_point_id):
        point_id = inputs.positive_id(service_point_id, "service_point_id")
        with self.store.reading() as session:
            return network.on_duty(session, self.settings.calendar, point_id, self.clock())

    @rpc_write
    def register_agent(self, payload):
        data = schemas.load(schemas.AgentInput, payload)
        with self.store.transaction() as session:
            return network.register_agent(session, data, sla.local_date(self.clock()))

    @rpc_write
    def retire_agent(self, agent_id):
        agent_id = inputs.positive_id(agent_id, "agent_id")
        with self.store.transaction() as session:
            return network.retire_agent(session, agent_id)

    # -- the catalogue --------------------------------------------------------------------------
    @rpc_write
    def define_matter(self, payload):
        data = schemas.load(schemas.MatterInput, payload)
        with self.store.transaction() as session:
            return catalogue.define(session, data)

    @rpc_write
    def load_default_catalogue(self):
        rows = [schemas.load(schemas.MatterInput, m) for m in self.settings.catalogue]
        with self.store.transaction() as session:
            return [catalogue.define(session, row)["code"] for row in rows]

    @rpc
    def list_matters(self, include_withdrawn=False):
        with self.store.reading() as session:
            return catalogue.list_matters(session, inputs.flag(include_withdrawn, "include_withdrawn"))

    @rpc
    def get_matter(self, code):
        with self.store.reading() as session:
            return catalogue.matter_dict(catalogue.matter(session, inputs.text(code, "code", 40)))

    # -- tickets --------------------------------------------------------------------------------
    @rpc_write
    def open_ticket(self, payload, by=None):
        data = schemas.load(schemas.OpenTicketInput, _acting(payload, by))
        with self.store.transaction() as session:
            return ticket_flow.open_ticket(session, self.settings, data, self.clock())

    @rpc_write
    def accept_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "accept", payload, schemas.ActionInput, by)

    @rpc_write
    def start_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "start", payload, schemas.ActionInput, by)

    @rpc_write
    def hold_ticket(self, ticket_id, payload, by=None):
        """Waiting on the villager or another department: the clock pauses."""
        return self._act(ticket_id, "wait", payload, schemas.WaitInput, by)

    @rpc_write
    def resume_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "resume", payload, schemas.ActionInput, by)

    @rpc_write
    def resolve_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "resolve", payload, schemas.ResolveInput, by)

    @rpc_write
    def close_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "close", payload, schemas.ActionInput, by)

    @rpc_write
    def reopen_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "reopen", payload, schemas.ReopenInput, by)

    @rpc_write
    def escalate_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "escalate", payload, schemas.EscalateInput, by)

    @rpc_write
    def reassign_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "reassign", payload, schemas.ReassignInput, by)

    @rpc_write
    def rate_ticket(self, ticket_id, payload, by=None):
        return self._act(ticket_id, "rate", payload, schemas.RateInput, by)

    def _act(self, ticket_id, action, payload, schema, by=None):
        ticket_id = inputs.positive_id(ticket_id, "ticket_id")
        data = schemas.load(schema, _acting(payload, by))
        with self.store.transaction() as session:
            return ticket_flow.act(session, self.settings, ticket_id, action, data, self.clock())

    @rpc
    def get_ticket(self, ticket_id):
        with self.store.reading() as session:
            return ticket_flow.detail(session, inputs.positive_id(ticket_id, "ticket_id"))

    @rpc
    def list_tickets(self, query=None, service_point_id=None, township_id=None, status=None,
                     offset=None, limit=None, unit_id=None):
        """Filters in ``query`` (a dict) or as arguments (``GET /tickets``), arguments winning;
        ``unit_id``: the tickets concerning that unit or a unit under it (``ticket_flow``)."""
        given = {name: value for name, value in (
            ("service_point_id", service_point_id), ("township_id", township_id),
            ("unit_id", unit_id), ("status", status), ("offset", offset), ("limit", limit))
            if value is not None}
        query = {} if query is None else query
        data = schemas.load(schemas.TicketQuery, {**query, **given} if isinstance(query, dict)
                            else query, field="query")
        with self.store.reading() as session:
            return ticket_flow.list_tickets(session, data)

    # -- time limits ----------------------------------------------------------------------------
    @ScanTimer.decorator(interval=60)
    def scan_on_timer(self):
        with self.store.transaction() as session:
            found = scheduler.scan(session, self.settings, self.clock())
        if any(found.values()):
            log.info("time limits: %s", found)

    @rpc_write
    def scan_time_limits(self):
        with self.store.transaction() as session:
            return scheduler.scan(session, self.settings, self.clock())

    # -- measures -------------------------------------------------------------------------------
    @rpc
    def measures(self, scope, date_from, date_to, scope_id=None):
        scope = inputs.choice(scope, "scope", reports.SCOPES)
        if scope == "county" and scope_id is not None:
            raise InvalidInput({"scope_id": ["must be empty for the county"]})
        scope_id = None if scope == "county" else inputs.positive_id(scope_id, "scope_id")
        start, end = inputs.a_date(date_from, "date_from"), inputs.a_date(date_to, "date_to")
        with self.store.reading() as session:
            return reports.for_scope(session, scope, scope_id, start, end)

    @rpc
    def export_measures(self, date_from, date_to, format="xlsx"):
        fmt = inputs.choice(format, "format", ("csv", "xlsx"))
        start, end = inputs.a_date(date_from, "date_from"), inputs.a_date(date_to, "date_to")
        with self.store.reading() as session:
            return reports.export_file(session, start, end, fmt)

    # -- Open311 GeoReport v2 (internal: the gateway's /open311 endpoint calls these) --------------
    # Each answers (status, body): the spec's JSON value or its error list with the HTTP status
    # (``open311_answers``). Not in ``api``: a POST's api_key is the credential, checked here.
    @rpc
    def open311_discovery(self, host_url):
        return open311_answers.discovery(open311_answers.part(host_url, "host_url"))

    @rpc
    def open311_services(self, args=None, format="json"):
        args, fmt = _open311_arguments(args, format)
        return open311_answers.services(self.store, self.settings, args, fmt)

    @rpc
    def open311_definition(self, service_code, args=None, format="json"):
        args, fmt = _open311_arguments(args, format)
        code = open311_answers.part(service_code, "service_code")
        return open311_answers.definition(self.store, self.settings, args, code, fmt)

    @rpc_write
    def open311_create(self, form, args=None, format="json"):
        """A POST's ``form`` (and query ``args``): opens a ticket for the api_key's client."""
        args, fmt = _open311_arguments(args, format)
        form = open311_answers.plain(form, "form")
        return open311_answers.create(self.store, self.settings, self.clock(), form, args, fmt)

    @rpc
    def open311_requests(self, args=None, format="json"):
        args, fmt = _open311_arguments(args, format)
        return open311_answers.requests(self.store, self.settings, self.clock(), args, fmt)

    @rpc
    def open311_request(self, service_request_id, args=None, format="json"):
        args, fmt = _open311_arguments(args, format)
        wanted = open311_answers.part(service_request_id, "service_request_id")
        return open311_answers.one(self.store, self.settings, args, wanted, fmt)

    # -- demo -----------------------------------------------------------------------------------
    @classmethod
    def load_demo_live(cls, config, cluster, scale=1.0):
        """Stations, agents, rotas and a month of tickets for the demo county (once)."""
        from services.tickets import demo
        return demo.load(config, cluster, scale=scale)

    @classmethod
    def rpc_examples(cls, cluster):
        from services.tickets import examples
        return examples.build(cluster)


def _acting(payload, by):
    """``payload`` with who acts (``by``: the caller's login, given by the gateway) in it."""
    return {**payload, "by": by} if by is not None and isinstance(payload, dict) else payload


def _open311_arguments(args, fmt) -> tuple[dict, str]:
    """The query's arguments and the format of an Open311 call (``InvalidInput`` naming the
    parameter for what no HTTP request carries)."""
    return open311_answers.plain(args, "args"), open311_answers.part(fmt, "format")


def _found(session, model, key, what):
    found = session.get(model, key)
    if found is None:
        raise NotFound(f"{what} {key} is not known to tickets (yet)")
    return found
