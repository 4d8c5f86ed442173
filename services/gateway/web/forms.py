"""The console's forms besides the activity form: a matter's step (affairs ``record_step``),
opening and escalating a ticket (tickets ``open_ticket`` / ``escalate_ticket``) and uploading
a sheet (members ``import_activities``, or ``import_members`` for a roster once members has it),
with the sheets' blank templates to download (``/console/templates/<kind>.csv``).

Each form is a GET (the empty form) and a POST (CSRF-checked, idempotent by a key the form
carries). What cannot even be sent (a count that is not a number) is refused here by the
rules in ``rules``; the rest is the service's to check. The service's ``InvalidInput`` comes
back as a 422 page with each reason next to the field it names and a summary at the top; a
sheet's row errors come back as a table of row, column and reason. Who acted (``by``,
``recorded_by``) is the login, never a form field."""
import base64
import logging
import uuid

from nameko.exceptions import MethodNotFound, RemoteError
from werkzeug.wrappers import Response

from services.gateway import roles
from services.gateway.web import pages, rules
from services.members.api import SHEET_SECONDS
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)


def section(page, section):
    """``/console/<section>``: the form the path names, or a sheet template; 404 for any
    other."""
    handler = SECTIONS.get(section.strip("/"))
    if handler is not None:
        return handler(page)
    kind = rules.console_template(section)
    if kind is not None:
        return sheet_template(page, kind)
    raise NotFound(f"no console page {section}")


class Outcome:
    """A submitted form's answer: the HTTP status, reasons by field, the other reasons."""

    def __init__(self, status=201, errors=None, rest=()):
        self.status, self.errors, self.rest = status, dict(errors or {}), list(rest)

    @property
    def ok(self):
        return self.status < 400


def submit(page, audit_label, call, fields, renamed=None) -> tuple[object, Outcome]:
    """Run ``call()`` (a write RPC as the user) and sort its refusals into an ``Outcome``; the
    request is audited as ``audit_label`` with the status given."""
    outcome, answer = Outcome(), None
    try:
        answer = call()
    except InvalidInput as refused:
        outcome.status = 422
        outcome.errors, outcome.rest = rules.form_errors(refused.errors, fields, renamed)
    except NotFound as missing:
        outcome.status, outcome.rest = 404, [("_schema", str(missing))]
    except Conflict as conflict:
        outcome.status, outcome.rest = 409, [("_schema", str(conflict))]
    except Forbidden as refused:
        outcome.status = 403
        outcome.rest = [("_schema", str(refused))]        # shown in the page's words
    finally:
        page.gateway._audit(page.request, page.caller, audit_label, outcome.status,
                            page.request_id)
    if not outcome.ok:
        log.info("%s refused for %s (%s): %s", audit_label, page.caller["user"],
                 outcome.status, sorted(outcome.errors) or outcome.rest)
    return answer, outcome


def _start(page, permission):
    """The logged-in caller, who must hold ``permission`` (a 403 page otherwise)."""
    caller = pages.console_caller(page)
    page.gateway.authorise(caller, permission, None)
    return caller


def _refused_csrf(page):
    return page.render("error.html", 403, message=page.t("error.csrf"))


FORMS = {  # prefix -> (action, fields)
    "stepform": ("/console/steps", rules.STEP_FIELDS),
    "ticket_form": ("/console/tickets/new", rules.TICKET_FIELDS),
    "escalate": ("/console/tickets/escalate", rules.ESCALATE_FIELDS),
}


def _render_form(page, prefix, status=200, values=None, outcome=None, choices=None):
    """One of ``FORMS`` with the values given, each field's reasons beside it."""
    action, fields = FORMS[prefix]
    outcome = outcome or Outcome(200)
    return page.render("console_form.html", status, prefix=prefix, action=action, fields=fields,
                       values=values or {}, errors=outcome.errors, rest=outcome.rest,
                       choices=choices or {}, csrf=pages.csrf_of(page),
                       idempotency_key=str(uuid.uuid4()))


def named(codes) -> list[tuple[str, str]]:
    """A power list's ``{code: {"name": ...}}`` as ``[(code, name)]`` for a select."""
    return [(code, (spec or {}).get("name") or code) for code, spec in (codes or {}).items()]


def _user(page) -> str:
    return page.caller["user"]


# -- a matter's step -------------------------------------------------------------------------------

def step(page):
    _start(page, "affairs.write")
    power = page.own("affairs", "power_list")
    choices = {"step": named(power.get("steps")), "form": named(power.get("meetings"))}
    if page.request.method == "GET":
        values = {"on": page.today.isoformat(),
                  "matter_id": page.request.args.get("matter_id", "")}
        return _render_form(page, "stepform", values=values, choices=choices)
    form = page.request.form.to_dict()
    if not pages.csrf_ok(page):
        return _refused_csrf(page)
    matter_id, payload, problems = rules.step_payload(form, _user(page))
    if problems:
        log.info("affairs.record_step not sent for %s: %s", _user(page), sorted(problems))
        return _render_form(page, "stepform", 422, form, Outcome(422, problems), choices)
    recorded, outcome = submit(
        page, "affairs.record_step",
        lambda: page.as_user("affairs", "record_step", writes=True,
                             idempotency_key=pages.form_key(form.get("idempotency_key")),
                             matter_id=matter_id, payload=payload,
                             recorded_by=_user(page)),
        rules.STEP_FIELD_NAMES, rules.STEP_FIELD_OF)
    if not outcome.ok:
        return _render_form(page, "stepform", outcome.status, form, outcome, choices)
    return page.render("form_done.html", 201, title=page.t("stepform.title"),
                       message=page.t("stepform.done", matter=matter_id,
                                      title=recorded.get("title", "")),
                       again="/console/steps", csrf=pages.csrf_of(page))


# -- tickets ---------------------------------------------------------------------------------------

def ticket_open(page):
    caller = _start(page, "tickets.write")
    choices = _ticket_choices(page, caller)
    if page.request.method == "GET":
        return _render_form(page, "ticket_form", choices=choices)
    form = page.request.form.to_dict()
    if not pages.csrf_ok(page):
        return _refused_csrf(page)
    opened, outcome = submit(
        page, "tickets.open_ticket",
        lambda: page.as_user("tickets", "open_ticket", writes=True,
                             idempotency_key=pages.form_key(form.get("idempotency_key")),
                             payload=rules.ticket_payload(form), by=_user(page)),
        rules.TICKET_FIELD_NAMES)
    if not outcome.ok:
        return _render_form(page, "ticket_form", outcome.status, form, outcome, choices)
    return page.render("form_done.html", 201, title=page.t("ticket_form.title"),
                       message=page.t("ticket_form.done", number=opened["id"]),
                       link=page.url("/ticket-status", number=opened["id"]),
                       link_text=page.t("ticket_form.status"), again="/console/tickets/new",
                       csrf=pages.csrf_of(page))


def _ticket_choices(page, caller) -> dict:
    """The service points in the caller's unit and below it (all for the county) and the
    catalogue; empty lists when tickets refuses (the form then takes numbers the service
    checks)."""
    scope = caller["scope_unit_id"]
    try:
        points = page.as_user("tickets", "list_service_points",
                              **({} if scope is None else {"unit_id": scope}))
    except (Forbidden, InvalidInput) as refused:
        log.info("ticket form: service points refused for %s: %s", caller["user"], refused)
        points = []
    try:
        catalogue = page.as_user("tickets", "list_matters")
    except (Forbidden, InvalidInput) as refused:
        log.info("ticket form: catalogue refused for %s: %s", caller["user"], refused)
        catalogue = []
    return {"service_point_id": [(p["id"], p.get("name") or f"#{p['id']}") for p in points],
            "matter_code": [(m["code"], m.get("name") or m["code"]) for m in catalogue]}


def ticket_escalate(page):
    _start(page, "tickets.write")
    if page.request.method == "GET":
        values = {"ticket_id": page.request.args.get("ticket_id", "")}
        return _render_form(page, "escalate", values=values)
    form = page.request.form.to_dict()
    if not pages.csrf_ok(page):
        return _refused_csrf(page)
    ticket_id, payload, problems = rules.escalation(form)
    if problems:
        return _render_form(page, "escalate", 422, form, Outcome(422, problems))
    moved, outcome = submit(
        page, "tickets.escalate_ticket",
        lambda: page.as_user("tickets", "escalate_ticket", writes=True,
                             idempotency_key=pages.form_key(form.get("idempotency_key")),
                             ticket_id=ticket_id, payload=payload, by=_user(page)),
        rules.ESCALATE_FIELD_NAMES)
    if not outcome.ok:
        return _render_form(page, "escalate", outcome.status, form, outcome)
    return page.render("form_done.html", 200, title=page.t("escalate.title"),
                       message=page.t("escalate.done", number=ticket_id,
                                      level=page.t(f"tlevel.{moved.get('level')}")),
                       link=page.url("/ticket-status", number=ticket_id),
                       link_text=page.t("ticket_form.status"), again="/console/tickets/escalate",
                       csrf=pages.csrf_of(page))


# -- sheet uploads ---------------------------------------------------------------------------------

def upload(page):
    caller = _start(page, "activities.write")
    branches = _branches_in_scope(page, caller)
    if page.request.method == "GET":
        return _render_upload(page, 200, {"kind": "activities"}, branches)
    form = page.request.form.to_dict()
    if not pages.csrf_ok(page):
        return _refused_csrf(page)
    kind = form.get("kind") if form.get("kind") in rules.SHEET_KINDS else "activities"
    sheet = page.request.files.get("file")
    content = sheet.read(rules.MAX_SHEET_BYTES + 1) if sheet else b""
    filename = (sheet.filename or "") if sheet else ""
    problems = {}
    branch_id = rules.ticket_number(form.get("branch_id") or "")
    if branch_id is None:
        problems["branch_id"] = [rules.REQUIRED]
    problem = rules.sheet_problem(filename, len(content))
    if problem:
        problems["file"] = [problem]
    if problems:
        log.info("sheet upload not sent for %s: %s", caller["user"], sorted(problems))
        return _render_upload(page, 422, form, branches, Outcome(422, problems))
    imported, outcome, rows = None, Outcome(), []
    try:
        imported = page.as_user("members", rules.SHEET_KINDS[kind], writes=True,
                                timeout=SHEET_SECONDS,
                                idempotency_key=pages.form_key(form.get("idempotency_key")),
                                branch_id=branch_id, filename=filename,
                                content_base64=base64.b64encode(content).decode())
    except InvalidInput as refused:
        rows, by_field, rest = rules.sheet_errors(refused.errors)
        if rows:
            by_field.setdefault("file", []).append(page.t("upload.rows_bad", n=len(rows)))
        outcome = Outcome(422, by_field, rest)
    except (Forbidden, NotFound, Conflict) as refused:
        outcome = Outcome(403 if isinstance(refused, Forbidden) else 409,
                          rest=[("_schema", str(refused))])
    except (MethodNotFound, RemoteError) as missing:
        log.warning("sheet upload: members cannot import %s: %s", kind, missing)
        outcome = Outcome(501, {"kind": [page.t("upload.kind_missing")]})
    finally:
        page.gateway._audit(page.request, caller, f"members.{rules.SHEET_KINDS[kind]}",
                            outcome.status, page.request_id)
    if not outcome.ok:
        log.info("sheet upload refused for %s (%s): %d row errors", caller["user"],
                 outcome.status, len(rows))
        return _render_upload(page, outcome.status, form, branches, outcome, rows)
    return _render_upload(page, 201, {"kind": kind, "branch_id": form.get("branch_id")},
                          branches, imported=imported, filename=filename)


def _render_upload(page, status, values, branches, outcome=None, rows=(), imported=None,
                   filename=None):
    outcome = outcome or Outcome(200)
    choices = {"kind": [(kind, page.t(f"upload.kind.{kind}")) for kind in rules.SHEET_KINDS],
               "branch_id": [(b["id"], b["name"]) for b in branches]}
    held = page.caller["permissions"]
    templates = [kind for kind, sheet in rules.SHEET_TEMPLATES.items()
                 if roles.granted(held, sheet.permission)]
    return page.render("upload.html", status, values=values, errors=outcome.errors,
                       rest=outcome.rest, choices=choices, rows=list(rows), imported=imported,
                       templates=templates,
                       filename=filename, csrf=pages.csrf_of(page),
                       idempotency_key=str(uuid.uuid4()))


def _branches_in_scope(page, caller) -> list[dict]:
    scope = page.unit(caller["scope_unit_id"])
    if scope is None:
        return page.units(rules.BRANCH_KINDS)
    if scope["kind"] in rules.BRANCH_KINDS:
        return [scope]
    return page.units(rules.BRANCH_KINDS, parent_id=scope["id"])


def sheet_template(page, kind):
    """``/console/templates/<kind>.csv``: the members service's blank sheet of ``kind`` as a
    download Excel opens correctly (UTF-8 with a BOM), named by ``Content-Disposition``."""
    sheet = rules.SHEET_TEMPLATES.get(kind)
    if sheet is None:
        raise NotFound(f"no sheet template {kind}")
    _start(page, sheet.permission)
    content = base64.b64decode(page.as_user("members", sheet.rpc))
    response = Response(rules.excel_csv(content), status=200, mimetype="text/csv")
    response.headers["Content-Disposition"] = rules.attachment(sheet.filename, sheet.fallback)
    response.headers["Cache-Control"] = "private, max-age=300"
    return page.finish(response)


SECTIONS = {"steps": step, "tickets/new": ticket_open, "tickets/escalate": ticket_escalate,
            "uploads": upload}
