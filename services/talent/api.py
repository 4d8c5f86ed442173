"""The talent service over HTTP (``shared.api``): what the gateway publishes under /api/v1.

Reads need ``talent.read``; keeping profiles, posts, the reserve pool, duty lists, projects,
training and wealth-creation records needs ``talent.write`` (township staff, inside their
township); the county's own decisions (review votes, completing an assessment, designating a
weak or special village) need ``talent.assess`` (county administrators). Who entered the votes
or assessed is the caller's login, never a field of the request.

Every write a scoped role may make says whose unit it acts on (``shared.scope``): a unit the
request names (``unit=``), or the unit of the object it names (``owner=``, a method of
``TalentService`` answered by ``owners``): a cadre's profile is its ``profiles.home_unit``, a
post its unit, a pool entry, a list item, a project, a zone, a shop its township, a session its
training base's township, a wealth leader its village. What belongs to no unit (the county's
courses and training bases, a profile registered without a unit) is the county's alone. The
by-id reads of a cadre are scoped the same way.

The lists name their unit in the query, which a scoped caller must give inside its scope:

* by ``unit_id``, the unit and every unit under it, where a village has a part of its own: the
  cadres of a team (``list_cadres``: a post's unit, a reserve candidate's village or else the
  pool's township, a wealth leader's village), the reserve pool (``list_reserve``), training
  hours (``training_hours``: each cadre's ``profiles.home_unit``, the year's post first) and
  the wealth figures (``wealth_summary``: leaders and cooperatives by their village, zones and
  shops by their leader's). A village cadre names their village and sees its part, township
  staff their township; ``township_id`` stays a plain filter beside it.
* by ``township_id``, overdue duty items (``overdue_items``): the problem, task and
  rectification lists are the township secretary's and have no village part, so a village
  cadre is refused them.

Not published (refused to gateway callers): the subscriptions and the overdue timer, which are
no RPCs, and ``health``, which is always answered."""
from marshmallow import fields, validate

from services.talent import cadres, models, schemas
from shared import inputs
from shared.api import Route
from shared.validation import body_schema

READ, WRITE, ASSESS = "talent.read", "talent.write", "talent.assess"
CADRE = "/talent/cadres/<int:cadre_id>"
TOWNSHIP = {"township_id": fields.Integer(validate=validate.Range(1))}
UNIT = {"unit_id": fields.Integer(validate=validate.Range(1), metadata={
    "description": "this unit and the units under it (required of a caller bound to one unit)"})}
ON = {"on": fields.Date(metadata={"example": "2026-11-27"})}
YEAR = fields.Integer(validate=validate.Range(2000, 2100), metadata={"example": 2026})
# list_cadres and list_reserve answer one page with its total ({"total", "offset", "cadres"}),
# not a bare list, so they take offset and limit as plain query parameters (not ``paged``)
PAGE = {"offset": fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000)),
        "limit": fields.Integer(load_default=100, validate=validate.Range(1, 1000))}


def body(name, schema, without=()):
    """``schema`` under a name of its own (the OpenAPI document's schemas are named by class,
    and other services have a ``VotesInput`` too), without the fields the gateway fills from
    the login (``without``)."""
    attrs = {"__doc__": schema.__doc__}
    if without:
        attrs["Meta"] = type("Meta", (getattr(schema, "Meta", object),),
                             {"exclude": tuple(without)})
    return type(name, (schema,), attrs)


def _reason():
    return inputs.Text(required=True, min_length=1, max_length=models.TITLE)


RemovalBody = body_schema("TalentRemovalBody", ended_on=inputs.Date(required=True),
                          reason=_reason())
WithdrawalBody = body_schema("TalentWithdrawalBody", on=inputs.Date(required=True),
                             reason=_reason())
VotesBody = body("TalentVotesBody", schemas.VotesInput, without=("entered_by",))
AssessBody = body("TalentAssessBody", schemas.AssessInput, without=("assessed_by",))


def _post(path, rpc, summary, schema, permission=WRITE, unit=None, owner=None, status=201,
          tag="talent"):
    """A POST whose body is one of the service's input schemas, passed as ``payload``."""
    return Route("POST", path, rpc, summary, body=body(f"Talent{schema.__name__}", schema),
                 permission=permission, unit=unit, owner=owner, status=status, tags=(tag,))


ROUTES = (
    # -- profiles and posts ------------------------------------------------------------------------
    _post("/talent/cadres", "register_cadre", "Register a cadre's profile", schemas.CadreInput,
          unit="body:unit_id", tag="cadres"),
    Route("GET", "/talent/cadres", "list_cadres", "The cadres of one team, one page with the total",
          query={"team": fields.String(required=True, validate=validate.OneOf(cadres.TEAMS)),
                 **UNIT, **TOWNSHIP, **PAGE},
          permission=READ, unit="query:unit_id", tags=("cadres",)),
    Route("GET", CADRE, "get_cadre", "A cadre's profile with posts and the member record",
          permission=READ, owner="unit_of_cadre", tags=("cadres",)),
    Route("PATCH", CADRE, "update_cadre", "Change a profile (education, experience, standing)",
          body=body("TalentCadreUpdate", schemas.CadreUpdate), permission=WRITE,
          owner="unit_of_cadre", tags=("cadres",)),
    _post("/talent/posts", "appoint", "Appoint a cadre to a post", schemas.AppointInput,
          unit="body:unit_id", tag="cadres"),
    Route("POST", "/talent/posts/<int:post_id>/removal", "remove_from_post",
          "End a cadre's post", body=RemovalBody, body_arg=None, permission=WRITE,
          owner="unit_of_post", tags=("cadres",)),
    _post("/talent/village-statuses", "set_village_status",
          "Designate a village normal, weak or special (who sends its first secretary)",
          schemas.VillageStatusInput, permission=ASSESS, unit="body:village_id", status=200,
          tag="first secretaries"),
    Route("GET", "/talent/first-secretaries/coverage", "first_secretary_coverage",
          "Villages without a first secretary, terms ending, senders not matching the status",
          query=ON, permission=READ, tags=("first secretaries",)),
    # -- reserve pool ------------------------------------------------------------------------------
    _post("/talent/reserve", "add_reserve_candidate", "Add a cadre to the reserve pool",
          schemas.ReserveInput, unit="body:township_id", tag="reserve"),
    Route("GET", "/talent/reserve", "list_reserve", "The reserve pool, one page with the total",
          query={**UNIT, **TOWNSHIP, **PAGE}, permission=READ, unit="query:unit_id",
          tags=("reserve",)),
    Route("POST", "/talent/reserve/<int:cadre_id>/withdrawal", "withdraw_reserve_candidate",
          "Take a cadre out of the reserve pool", body=WithdrawalBody, body_arg=None,
          permission=WRITE, owner="unit_of_reserve_entry", tags=("reserve",)),
    Route("GET", "/talent/villages/<int:village_id>/shortlist", "shortlist",
          "The ranked reserve shortlist for a village secretary vacancy, with every reason",
          query=ON, permission=READ, unit="path:village_id", tags=("reserve",)),
    # -- township secretaries' lists and projects --------------------------------------------------
    _post("/talent/duty-items", "add_duty_item",
          "Add an item to a township secretary's problem, task or rectification list",
          schemas.DutyItemInput, unit="body:township_id", tag="duties"),
    _post("/talent/duty-items/status", "set_duty_status", "Change a list item's status",
          schemas.DutyStatusInput, owner="unit_of_duty_item", status=200, tag="duties"),
    Route("GET", "/talent/duty-items/overdue", "overdue_items",
          "List items past their deadline undone", query={**TOWNSHIP, **ON}, permission=READ,
          unit="query:township_id", tags=("duties",)),
    Route("GET", f"{CADRE}/duty-lists", "duty_lists", "A township secretary's lists of a year",
          query={"year": YEAR}, permission=READ, owner="unit_of_cadre", tags=("duties",)),
    _post("/talent/projects", "add_party_project", "Add a township's Party-building project",
          schemas.ProjectInput, unit="body:township_id", tag="duties"),
    _post("/talent/projects/status", "set_project_status", "Change a project's status",
          schemas.ProjectStatusInput, owner="unit_of_project", status=200, tag="duties"),
    # -- training ----------------------------------------------------------------------------------
    _post("/talent/training/bases", "add_training_base", "Add a training base",
          schemas.TrainingBaseInput, unit="body:township_id", tag="training"),
    Route("GET", "/talent/training/bases", "list_training_bases", "Training bases",
          permission=READ, tags=("training",)),
    _post("/talent/training/courses", "add_course", "Add a course", schemas.CourseInput,
          unit="body:township_id", tag="training"),
    _post("/talent/training/sessions", "schedule_session", "Schedule a session of a course",
          schemas.SessionInput, owner="unit_of_session_base", tag="training"),
    _post("/talent/training/attendance", "record_attendance",
          "Record who attended a session", schemas.AttendanceInput,
          owner="unit_of_training_session", tag="training"),
    Route("GET", "/talent/training/hours", "training_hours",
          "Training hours of every cadre in a year against the hours required",
          query={"year": fields.Integer(required=True, validate=validate.Range(2000, 2100)),
                 **UNIT, **TOWNSHIP}, permission=READ, unit="query:unit_id", tags=("training",)),
    # -- assessment --------------------------------------------------------------------------------
    Route("GET", "/talent/townships/<int:township_id>/service-stars", "service_stars",
          "A township's service-star ratings", query={"year": YEAR}, permission=READ,
          unit="path:township_id", tags=("assessment",)),
    Route("POST", "/talent/assessments/votes", "record_review_votes",
          "Enter the report-and-review votes of a township secretary's year", body=VotesBody,
          caller_arg="entered_by", permission=ASSESS, tags=("assessment",)),
    Route("GET", f"{CADRE}/assessments/<int:year>/preview", "preview_assessment",
          "What the assessment of a year would give now, and what it still lacks",
          permission=READ, owner="unit_of_cadre", tags=("assessment",)),
    Route("POST", "/talent/assessments", "complete_assessment",
          "Complete a township secretary's annual assessment", body=AssessBody,
          caller_arg="assessed_by", permission=ASSESS, status=201, tags=("assessment",)),
    Route("GET", f"{CADRE}/assessments/<int:year>", "get_assessment",
          "A completed annual assessment", permission=READ, owner="unit_of_cadre",
          tags=("assessment",)),
    # -- wealth-creation leaders -------------------------------------------------------------------
    _post("/talent/wealth-leaders", "register_wealth_leader",
          "Register a rural wealth-creation leader", schemas.WealthLeaderInput,
          unit="body:village_id", tag="wealth"),
    _post("/talent/wealth-leaders/households", "set_households_helped",
          "Set how many households a leader helps", schemas.HouseholdsInput,
          owner="unit_of_wealth_leader", status=200, tag="wealth"),
    _post("/talent/cooperatives", "add_cooperative", "Add a cooperative",
          schemas.CooperativeInput, unit="body:village_id", tag="wealth"),
    _post("/talent/demonstration-zones", "add_demonstration_zone", "Add a demonstration zone",
          schemas.ZoneInput, owner="unit_of_zone_leader", tag="wealth"),
    _post("/talent/online-shops", "add_online_shop", "Add a leader's online shop",
          schemas.ShopInput, owner="unit_of_shop_leader", tag="wealth"),
    _post("/talent/online-shops/sales", "record_shop_sales", "Record a shop's sales of a year",
          schemas.SalesInput, owner="unit_of_shop", status=200, tag="wealth"),
    Route("GET", "/talent/wealth/summary", "wealth_summary",
          "Wealth-creation figures of the county, a township or a village in a year",
          query={"year": fields.Integer(required=True, validate=validate.Range(2000, 2100)),
                 **UNIT, **TOWNSHIP}, permission=READ, unit="query:unit_id", tags=("wealth",)),
)
