"""The tickets service over HTTP (``shared.api``): what the gateway publishes under /api/v1.

Villagers' tickets (``/tickets``) need ``tickets.write`` to act on; the three-level network
(``/stations``, ``/agents``) and the matter catalogue (``/catalogue``) are the county's
configuration and need ``tickets.configure`` (county administrators). Who acted on a ticket
(``by`` in the service's schemas) is the caller's login, never a field of the request.

Scope (``shared.scope``; the service checks it again for a caller bound to one unit): a ticket
is the unit's that hosts the service point where it was opened (``TicketsService.unit_of_ticket``:
a village's ticket stays its village's when it is escalated to the township or reassigned, so
the village's cadres and proxy agents keep following it, the township's staff handle every
ticket of their villages, and an escalation is checked against the ticket before it moves). A
new ticket is the unit's that hosts its service point; a reassignment must cover the ticket and
the point it goes to; a station (its rota, its agents) is its host unit's. ``GET /tickets``
and ``GET /stations`` name their unit by ``unit_id`` (the tickets concerning that unit or a unit
under it; the stations hosted by it or a unit under it): a village cadre gives their village
(and lists its station), a township staff member their township (its centre and its villages'
stations). ``township_id`` stays a plain filter beside it; county-wide callers may leave
``unit_id`` out. Matters of the catalogue and the
measures' county and station views name no unit.

Not published (refused to gateway callers): ``known_unit`` and ``known_member`` (the service's
copy of the members directory, for other services), ``scan_time_limits`` (the scheduler's
scan, which runs on its own timer) and the ``open311_*`` RPCs (the gateway's Open311 endpoint
calls them without a caller: the api_key of a POST is the credential)."""
from marshmallow import fields, validate

from services.tickets import schemas
from shared.api import Route

READ, WRITE, CONFIGURE = "tickets.read", "tickets.write", "tickets.configure"
STATUSES = ("open", "accepted", "in_progress", "waiting", "resolved", "closed")
TICKET = "/tickets/<int:ticket_id>"
PERIOD = {"date_from": fields.Date(required=True, metadata={"example": "2026-11-01"}),
          "date_to": fields.Date(required=True, metadata={"example": "2026-11-30"})}


def body(name, schema, without=("by",)):
    """``schema`` under a name of its own (the OpenAPI document's schemas are named by class),
    without the fields the gateway fills from the login (``without``)."""
    meta = type("Meta", (getattr(schema, "Meta", object),), {"exclude": tuple(without)})
    return type(name, (schema,), {"Meta": meta, "__doc__": schema.__doc__})


OpenTicketBody = body("OpenTicketBody", schemas.OpenTicketInput)
TicketActionBody = body("TicketActionBody", schemas.ActionInput)
TicketHoldBody = body("TicketHoldBody", schemas.WaitInput)
TicketResolveBody = body("TicketResolveBody", schemas.ResolveInput)
TicketReopenBody = body("TicketReopenBody", schemas.ReopenInput)
TicketEscalateBody = body("TicketEscalateBody", schemas.EscalateInput)
TicketReassignBody = body("TicketReassignBody", schemas.ReassignInput)
TicketRateBody = body("TicketRateBody", schemas.RateInput)
StationBody = body("StationBody", schemas.ServicePointInput, without=())
RotaBody = body("RotaBody", schemas.RotaInput, without=())
AgentBody = body("AgentBody", schemas.AgentInput, without=())
MatterBody = body("TicketMatterBody", schemas.MatterInput, without=())


def _action(verb, rpc, summary, schema, owner="unit_of_ticket"):
    return Route("POST", f"{TICKET}/{verb}", rpc, summary, body=schema, caller_arg="by",
                 permission=WRITE, owner=owner, tags=("tickets",))


ROUTES = (
    # -- tickets ----------------------------------------------------------------------------------
    Route("POST", "/tickets", "open_ticket",
          "Open a ticket at a service point (a proxy agent's needs the villager's consent)",
          body=OpenTicketBody, caller_arg="by", permission=WRITE, owner="unit_of_opening",
          status=201, tags=("tickets",)),
    Route("GET", "/tickets", "list_tickets", "Tickets, newest first",
          query={"unit_id": fields.Integer(validate=validate.Range(1), metadata={
                     "description": "the tickets concerning this unit or a unit under it "
                                    "(required of a caller bound to one unit)"}),
                 "service_point_id": fields.Integer(validate=validate.Range(1)),
                 "township_id": fields.Integer(validate=validate.Range(1)),
                 "status": fields.String(validate=validate.OneOf(STATUSES))},
          paged=True, permission=READ, unit="query:unit_id", tags=("tickets",)),
    Route("GET", TICKET, "get_ticket", "One ticket with its history", permission=READ,
          owner="unit_of_ticket", tags=("tickets",)),
    _action("accept", "accept_ticket", "Accept a ticket", TicketActionBody),
    _action("start", "start_ticket", "Start work on an accepted ticket", TicketActionBody),
    _action("hold", "hold_ticket",
            "Wait on the villager or another department (the time limit pauses)", TicketHoldBody),
    _action("resume", "resume_ticket", "Resume a ticket on hold", TicketActionBody),
    _action("resolve", "resolve_ticket", "Resolve a ticket with its outcome", TicketResolveBody),
    _action("close", "close_ticket", "Close a resolved ticket", TicketActionBody),
    _action("reopen", "reopen_ticket", "Reopen a resolved or closed ticket (within the window)",
            TicketReopenBody),
    _action("escalate", "escalate_ticket", "Send a ticket up one level", TicketEscalateBody),
    _action("reassign", "reassign_ticket",
            "Hand a ticket to another service point or agent at its level", TicketReassignBody,
            owner="units_of_reassignment"),
    _action("rate", "rate_ticket", "The villager's rating of a resolved ticket", TicketRateBody),
    # -- measures ---------------------------------------------------------------------------------
    Route("GET", "/tickets/measures/<any(township):scope>/<int:scope_id>", "measures",
          "A township's ticket measures in a period", query=PERIOD, permission=READ,
          unit="path:scope_id", tags=("ticket measures",)),
    Route("GET", "/tickets/measures/<any(county, station):scope>", "measures",
          "The county's ticket measures in a period, or a service point's (scope_id)",
          query={**PERIOD, "scope_id": fields.Integer(validate=validate.Range(1))},
          permission=READ, tags=("ticket measures",)),
    Route("GET", "/tickets/measures/export.<any(xlsx, csv):format>", "export_measures",
          "Every measure of the county, its townships and stations as a sheet (base64)",
          query=PERIOD, permission=READ, tags=("ticket measures",)),
    # -- the network ------------------------------------------------------------------------------
    Route("POST", "/stations", "register_service_point",
          "Register the service point an organisation unit hosts", body=StationBody,
          permission=CONFIGURE, unit="body:unit_id", status=201, tags=("stations",)),
    Route("GET", "/stations", "list_service_points", "Service points",
          query={"unit_id": fields.Integer(validate=validate.Range(1), metadata={
                     "description": "the points hosted by this unit or a unit under it "
                                    "(required of a caller bound to one unit)"}),
                 "level": fields.String(validate=validate.OneOf(("village", "township", "city"))),
                 "township_id": fields.Integer(validate=validate.Range(1))},
          permission=READ, unit="query:unit_id", tags=("stations",)),
    Route("GET", "/stations/<int:service_point_id>", "get_service_point",
          "One service point with its rota and agents", permission=READ,
          owner="unit_of_service_point", tags=("stations",)),
    Route("PUT", "/stations/<int:service_point_id>/rota", "set_duty_rota",
          "Replace a service point's duty rota", body=RotaBody, permission=CONFIGURE,
          owner="unit_of_service_point", tags=("stations",)),
    Route("GET", "/stations/<int:service_point_id>/on-duty", "on_duty",
          "Who is on duty at a service point now", permission=READ,
          owner="unit_of_service_point", tags=("stations",)),
    Route("POST", "/agents", "register_agent", "Register a proxy agent of a service point",
          body=AgentBody, permission=CONFIGURE, owner="unit_of_new_agent", status=201,
          tags=("stations",)),
    Route("POST", "/agents/<int:agent_id>/retirement", "retire_agent", "Retire a proxy agent",
          permission=CONFIGURE, owner="unit_of_agent", tags=("stations",)),
    # -- the catalogue ----------------------------------------------------------------------------
    Route("GET", "/catalogue", "list_matters", "The matters villagers can bring",
          query={"include_withdrawn": fields.Boolean()}, permission=READ, tags=("catalogue",)),
    Route("GET", "/catalogue/<code>", "get_matter", "One matter of the catalogue",
          permission=READ, tags=("catalogue",)),
    Route("POST", "/catalogue", "define_matter", "Define or change a matter", body=MatterBody,
          permission=CONFIGURE, tags=("catalogue",)),
    Route("POST", "/catalogue/defaults", "load_default_catalogue",
          "Define the configured default matters", permission=CONFIGURE, tags=("catalogue",)),
)
