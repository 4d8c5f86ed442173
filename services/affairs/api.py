"""The affairs service over HTTP (``shared.api``): what the gateway publishes under /api/v1/affairs.

Who may do what follows the procedure 四议两公开一执行一监督:

* the village Party organisation and the villagers' committee (``affairs.write``: village
  cadres, township staff) propose matters, record their steps and the execution's progress,
  attach evidence and answer objections;
* the village affairs supervision committee (``affairs.supervise``: supervisors) signs off each
  recorded step, raises objections and records the final acceptance (``/acceptance``; the
  service refuses the acceptance step through ``/steps`` to a caller without
  ``affairs.supervise``);
* reads need ``affairs.read``; what a village makes public (its public records, their QR codes,
  its hash chain) is public (村务公开), as on the public pages.

Whose unit a request acts on: a new matter names its ``branch_id``; a matter, its evidence and
its objections belong to the matter's branch (the service's ``branch_of_*`` owners). Lists and
reports (``/matters``, ``/counts``, ``/overdue``, ``/violations``) take the units they cover from
their ``branch_id`` / ``township_id`` filters (``units_listed``): a caller bound to one unit must
name units inside its scope, and one that names none gets its own unit's matters only.

Who acted (``recorded_by``, ``signed_by``, ``raised_by``, ``answered_by``) is the caller's login,
never a field of the request body.

Not published (refused to gateway callers): ``list_matters`` (the public pages' listing with its
total; ``/matters`` is the paged list)."""
from marshmallow import fields, validate

from services.affairs import schemas
from services.affairs.procedure import STATUSES
from shared.api import Route

READ, WRITE, SUPERVISE = "affairs.read", "affairs.write", "affairs.supervise"
MATTER = "/affairs/matters/<int:matter_id>"
RECORD = "/affairs/villages/<int:branch_id>/records/<int:seq>"
TAGS = ("village matters",)
SUPERVISION = ("village affairs supervision",)
DISCLOSURE = ("village affairs disclosure",)
REPORTS = ("village matters reports",)


def body(name, schema, without=None):
    """``schema`` under a name of its own (the OpenAPI document names schemas by class),
    without the field the gateway fills from the login (``without``)."""
    exclude = () if without is None else (without,)
    meta = type("Meta", (getattr(schema, "Meta", object),), {"exclude": exclude})
    return type(name, (schema,), {"Meta": meta, "__doc__": schema.__doc__})


def _id():
    return fields.Integer(validate=validate.Range(1))


def _year():
    return fields.Integer(validate=validate.Range(2000, 2100))


def _limit(most):
    return fields.Integer(validate=validate.Range(1, most))


ProposeBody = body("ProposeMatterBody", schemas.ProposeInput, "recorded_by")
StepBody = body("MatterStepBody", schemas.StepInput, "recorded_by")
AcceptanceBody = body("MatterAcceptanceBody", schemas.AcceptanceInput, "recorded_by")
ProgressBody = body("MatterProgressBody", schemas.ProgressInput, "recorded_by")
EvidenceBody = body("MatterEvidenceBody", schemas.EvidenceInput)
SignOffBody = body("SignOffBody", schemas.SignOffInput, "signed_by")
ObjectionBody = body("ObjectionBody", schemas.ObjectionInput, "raised_by")
AnswerBody = body("ObjectionAnswerBody", schemas.AnswerInput, "answered_by")

MATTER_QUERY = {"branch_id": _id(), "township_id": _id(),
                "status": fields.String(validate=validate.OneOf(STATUSES)),
                "item": fields.String(validate=validate.Length(1, 40)), "year": _year()}

ROUTES = (
    Route("GET", "/affairs/power-list", "power_list",
          "The power list: categories, items, procedures, steps and meeting rules",
          permission=READ, tags=TAGS),
    # -- matters and their procedure ------------------------------------------------------------
    Route("POST", "/affairs/matters", "propose_matter",
          "A village branch proposes a matter (the proposal is its first step)",
          body=ProposeBody, caller_arg="recorded_by", permission=WRITE, unit="body:branch_id",
          status=201, tags=TAGS),
    Route("GET", "/affairs/matters", "find_matters",
          "Matters by branch, township, status, item and year (a scoped caller: its own)",
          query=MATTER_QUERY, paged=True, permission=READ, owner="units_listed", tags=TAGS),
    Route("GET", MATTER, "get_matter", "One matter with its steps, progress and supervision",
          permission=READ, owner="branch_of_matter", tags=TAGS),
    Route("POST", f"{MATTER}/steps", "record_step",
          "Record the next step of a matter's procedure (a meeting, a publication, execution)",
          body=StepBody, caller_arg="recorded_by", permission=WRITE, owner="branch_of_matter",
          tags=TAGS),
    Route("POST", f"{MATTER}/progress", "record_progress",
          "The villagers' committee reports the execution's progress (100 % finishes it)",
          body=ProgressBody, caller_arg="recorded_by", permission=WRITE,
          owner="branch_of_matter", tags=TAGS),
    Route("POST", f"{MATTER}/evidence", "attach_evidence",
          "Attach evidence to a matter (a file, or a reference with its SHA-256)",
          body=EvidenceBody, permission=WRITE, owner="branch_of_matter", status=201, tags=TAGS),
    Route("GET", "/affairs/evidence/<int:evidence_id>", "get_evidence",
          "One piece of evidence, whether it is intact, and its content when asked",
          query={"include_content": fields.Boolean()}, permission=READ,
          owner="branch_of_evidence", tags=TAGS),
    # -- supervision ----------------------------------------------------------------------------
    Route("POST", f"{MATTER}/sign-offs", "sign_off",
          "The supervision committee signs off a recorded step", body=SignOffBody,
          caller_arg="signed_by", permission=SUPERVISE, owner="branch_of_matter", status=201,
          tags=SUPERVISION),
    Route("POST", f"{MATTER}/objections", "raise_objection",
          "The supervision committee raises an objection (it blocks the acceptance)",
          body=ObjectionBody, caller_arg="raised_by", permission=SUPERVISE,
          owner="branch_of_matter", status=201, tags=SUPERVISION),
    Route("POST", "/affairs/objections/<int:objection_id>/answer", "answer_objection",
          "The villagers' committee answers an objection", body=AnswerBody,
          caller_arg="answered_by", permission=WRITE, owner="branch_of_objection",
          tags=SUPERVISION),
    Route("POST", f"{MATTER}/acceptance", "accept_matter",
          "The supervision committee's final acceptance (every step signed off, no open "
          "objection)", body=AcceptanceBody, caller_arg="recorded_by", permission=SUPERVISE,
          owner="branch_of_matter", tags=SUPERVISION),
    # -- reports --------------------------------------------------------------------------------
    Route("GET", "/affairs/counts", "counts",
          "Matters by category and status per township or village",
          query={"level": fields.String(validate=validate.OneOf(("township", "village"))),
                 "township_id": _id(), "year": _year()},
          permission=READ, owner="units_listed", tags=REPORTS),
    Route("GET", "/affairs/overdue", "overdue",
          "Open matters past a step's due day, objections past their answer period",
          query={"as_of": fields.Date(), "township_id": _id(), "branch_id": _id(),
                 "limit": _limit(5000)},
          permission=READ, owner="units_listed", tags=REPORTS),
    Route("GET", "/affairs/violations", "list_violations",
          "Breaches of the procedure, newest first",
          query={"township_id": _id(), "branch_id": _id(), "year": _year(),
                 "limit": _limit(5000)},
          permission=READ, owner="units_listed", tags=REPORTS),
    # -- what a village makes public (村务公开) ---------------------------------------------------
    Route("GET", RECORD, "public_record", "A village's public record number seq",
          permission=None, tags=DISCLOSURE),
    Route("GET", f"{RECORD}/qr-code", "qr_code", "The QR code that opens a public record",
          query={"image_format": fields.String(validate=validate.OneOf(("png", "svg")))},
          permission=None, tags=DISCLOSURE),
    Route("GET", "/affairs/villages/<int:branch_id>/chain", "verify_chain",
          "Whether a village's public records still form an unbroken hash chain",
          permission=None, tags=DISCLOSURE),
)
