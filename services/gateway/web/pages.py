"""The pages: plain functions of a ``Page`` (the request, the gateway's RPC caller, its settings
and store) that return a werkzeug ``Response``; the gateway's ``@http`` entrypoints only hand
requests to ``serve``.

Who the services see:

* Public pages call public routes' RPCs (``stars.top``, ``stars.distribution``) as the
  anonymous caller, exactly like ``/api/v1/boards``: the services' guard lets them through.
* Public pages that show part of a record the API keeps behind a login (a village's published
  matters and its hash chain, a ticket's status by its number, a member's surname on a board)
  ask as the gateway itself (no caller in the context), and show only what the page is for:
  the published matters, a ticket without requester, staff or notes (Open311 shows a request's
  status to anyone with its id in the same way), a masked name.
* The console calls with the logged-in user's role, scope and permissions, as the API does,
  and checks the member's branch against the user's scope before recording an activity. Its
  overview (``console``) and its other forms and sheet uploads (``forms``, under
  ``/console/<section>``) live in their own modules; ``/`` is the landing page.

The console keeps the access token (15 minutes) and the refresh token in HttpOnly,
SameSite=Strict cookies (Secure when ``public_base_url`` is https); a console page with an
expired access token refreshes it once; forms carry a CSRF token that must match a cookie."""
import logging
import mimetypes
import secrets
import time
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from nameko.exceptions import RpcTimeout, UnknownService
from sqlalchemy import select
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from services.gateway import accounts, dispatch, metrics, roles, tokens
from services.gateway.http_errors import TooManyAttempts, Unauthenticated
from services.gateway.models import Unit
from services.gateway.web import charts, i18n, rules
from services.gateway.web import console as console_views
from services.gateway.web import forms
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
BOARD_SIZE = 30
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

ENV = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                  autoescape=select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True)
ENV.globals.update(stars=rules.star_glyphs, short_hash=rules.short_hash,
                   step_rows=rules.step_rows)


@pass_context
def said(context, message) -> Markup:
    """The ``reason`` filter: a refusal reason in the page's language (``i18n.reason``), the
    original kept in the title when translated and marked as English when it could not be."""
    original = "" if message is None else str(message)
    lang = context.get("lang", i18n.DEFAULT)
    shown = i18n.reason(lang, original)
    if shown != original:
        return Markup('<span class="reason" title="{0}" data-original="{0}">{1}</span>').format(
            original, shown)
    if lang != "en" and original.isascii() and any(c.isalpha() for c in original):
        return Markup('<span class="reason" lang="en">{0}</span>').format(original)
    return Markup("{0}").format(original)


ENV.filters["reason"] = said


class NeedLogin(Exception):
    """No valid console session: log in (``expired`` when there was one)."""

    def __init__(self, expired=False):
        super().__init__("log in")
        self.expired = expired


class _Bearer:
    """What ``dispatch.Gateway.caller`` reads of a request: the token as a Bearer header."""

    def __init__(self, token):
        self.headers = {"Authorization": f"Bearer {token}"}


class Page:
    """One request to a page: its language, request id, the RPC caller and the gateway."""

    def __init__(self, gateway, request, today=None):
        self.gateway = gateway
        self.services = gateway.services
        self.settings = gateway.settings
        self.store = gateway.store
        self.request = request
        self.request_id = dispatch.request_id_of(request)
        asked = request.args.get("lang")
        self.lang = i18n.choose(asked, request.cookies.get(i18n.COOKIE))
        self.remember_lang = asked in i18n.LANGS and asked != request.cookies.get(i18n.COOKIE)
        self.t = i18n.words(self.lang)
        self.today = today or date.today()
        self.cookies = []        # (name, value, options); value None deletes
        self.caller = None

    # -- calling the services -----------------------------------------------------------------
    def public(self, service, method, **kwargs):
        """As the anonymous caller (public routes only)."""
        context = dispatch.Gateway.rpc_context(dict(dispatch.ANONYMOUS), self.request,
                                               self.request_id, False)
        return self.services.call(service, method, kwargs, context)

    def own(self, service, method, **kwargs):
        """As the gateway itself, for what a public page shows of a record (see the module)."""
        return self.services.call(service, method, kwargs, {"correlation_id": self.request_id})

    def as_user(self, service, method, writes=False, idempotency_key=None, timeout=None,
                **kwargs):
        context = dispatch.Gateway.rpc_context(self.caller, self.request, self.request_id,
                                               writes)
        if writes and idempotency_key:
            context["idempotency_key"] = f"{self.caller['user']}:{idempotency_key}"
        return self.services.call(service, method, kwargs, context, timeout=timeout)

    # -- the organisation tree the gateway learned --------------------------------------------
    def unit(self, unit_id):
        if unit_id is None:
            return None
        with self.store.reading() as session:
            found = session.get(Unit, unit_id)
            return None if found is None else {"id": found.id, "name": found.name,
                                               "kind": found.kind, "parent_id": found.parent_id}

    def unit_kind(self, unit_id):
        found = self.unit(unit_id)
        return None if found is None else found["kind"]

    def units(self, kinds=None, parent_id=None) -> list[dict]:
        query = select(Unit).order_by(Unit.id)
        if kinds:
            query = query.where(Unit.kind.in_(kinds))
        if parent_id is not None:
            query = query.where(Unit.parent_id == parent_id)
        with self.store.reading() as session:
            return [{"id": u.id, "name": u.name, "kind": u.kind, "parent_id": u.parent_id}
                    for u in session.scalars(query)]

    def unit_name(self, unit_id, fallback=None):
        found = self.unit(unit_id)
        return found["name"] if found else (fallback or f"#{unit_id}")

    # -- answering ----------------------------------------------------------------------------
    def url(self, path, **params):
        given = {k: v for k, v in params.items() if v is not None}
        return f"{path}?{urlencode(given)}" if given else path

    def switch_url(self):
        other = "en" if self.lang == "zh" else "zh"
        args = self.request.args.to_dict()
        args["lang"] = other
        return self.url(self.request.path, **args)

    def render(self, template, status=200, **context) -> Response:
        body = ENV.get_template(template).render(
            t=self.t, lang=self.lang, html_lang=i18n.HTML_LANG[self.lang],
            switch_url=self.switch_url(), request_id=self.request_id, caller=self.caller,
            label=lambda prefix, code: i18n.label(self.lang, prefix, code),
            period_label=lambda key: rules.period_label(self.lang, key), **context)
        return self.finish(Response(body, status=status, mimetype="text/html"))

    def redirect(self, location) -> Response:
        return self.finish(Response(status=303, headers={"Location": location}))

    def finish(self, response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers["X-Request-Id"] = self.request_id
        if self.remember_lang:
            response.set_cookie(i18n.COOKIE, self.lang, max_age=365 * 86400, path="/",
                                samesite="Lax")
        for name, value, options in self.cookies:
            if value is None:
                response.delete_cookie(name, path=options["path"], httponly=True,
                                       samesite="Strict", secure=options["secure"])
            else:
                response.set_cookie(name, value, **options)
        return response


def serve(label, handler, gateway, request, **kwargs) -> Response:
    """Run a page handler; failures become pages (404, 403, 503, 500), a console page without
    a session goes to the login page; every page is counted in /metrics as ``page.<label>``."""
    started = time.monotonic()
    page = Page(gateway, request)
    try:
        response = handler(page, **kwargs)
    except NeedLogin as need:
        if request.method == "GET":
            back = request.full_path.rstrip("?")
            response = page.redirect(page.url("/console/login", next=back,
                                              expired="1" if need.expired else None))
        else:
            response = login_form(page, status=401, message=page.t("login.expired"))
    except NotFound:
        response = page.render("error.html", 404, message=page.t("error.not_found"))
    except (roles.Denied, Forbidden) as denied:
        original = getattr(denied, "reason", str(denied))
        response = page.render("error.html", 403, original=original, message=page.t(
            "error.forbidden", reason=i18n.reason(page.lang, original)))
    except (RpcTimeout, UnknownService) as exc:
        log.warning("page %s: %s (request %s)", request.path, exc, page.request_id)
        response = page.render("error.html", 503, message=page.t("error.unavailable"))
    except Exception:  # every failure is a page
        log.exception("page %s failed (request %s)", request.path, page.request_id)
        response = page.render("error.html", 500, message=page.t(
            "error.internal", request_id=page.request_id))
    metrics.observe(request.method, f"page.{label}", response.status_code,
                    time.monotonic() - started)
    return response


# -- public: ranking boards ------------------------------------------------------------------------

def board(page) -> Response:
    t = page.t
    chosen = rules.board_of(page.request.args.to_dict(), page.today, page.unit_kind)
    found = page.public("stars", "top", subject_kind=chosen.kind, scope_kind=chosen.scope,
                        scope_id=chosen.unit_id, period=chosen.period, n=BOARD_SIZE)
    spread = page.public("stars", "distribution", subject_kind=chosen.kind,
                         period=chosen.period)
    entries = [_entry(page, chosen.kind, entry) for entry in found["entries"]]
    levels = [(t("level", n=level), int(spread["levels"].get(str(level), 0)))
              for level in range(6)]
    kind_words = t(f"kind.{chosen.kind}")
    period_words = rules.period_label(page.lang, chosen.period)
    chart = charts.bar_chart(
        levels, t("chart.title", kind=kind_words, period=period_words),
        t("chart.desc", summary="; ".join(f"{name} {count}" for name, count in levels)),
        "distribution")
    unit = page.unit(chosen.unit_id)
    townships = page.units(rules.TOWNSHIP_KINDS)
    branches = []
    if chosen.scope == "township" and chosen.kind == "member":
        branches = page.units(rules.BRANCH_KINDS, parent_id=chosen.unit_id)
    scope_words = t("scope.county") if unit is None else unit["name"]
    return page.render(
        "board.html", board=chosen, entries=entries, official=found["official"],
        levels=levels, chart=chart, unit=unit, townships=townships, branches=branches,
        periods=rules.period_choices(page.today, chosen.period), kinds=rules.SUBJECT_KINDS,
        caption=t("board.caption", scope=scope_words, kind=kind_words, period=period_words))


def _entry(page, kind, entry) -> dict:
    shown = {"rank": entry["rank"], "level": entry["level"], "score": entry["score"],
             "tied": entry["tied_with_previous"], "branch": None}
    if kind == "member":
        try:
            member = page.own("members", "get_member", member_id=entry["subject_id"])
            shown["name"] = rules.masked_name(member.get("name"))
            shown["branch"] = page.unit_name(member.get("branch_id"), "")
        except NotFound:
            shown["name"] = f"#{entry['subject_id']}"
    else:
        shown["name"] = page.unit_name(entry["subject_id"])
    return shown


# -- public: village disclosure (村务公开) -----------------------------------------------------------

def village(page, branch_id) -> Response:
    verdict = page.own("affairs", "verify_chain", branch_id=branch_id)
    power = page.own("affairs", "power_list")
    listing = page.own("affairs", "list_matters", filters={"branch_id": branch_id, "limit": 500})
    matters = []
    for summary in listing["matters"]:
        detail = page.own("affairs", "get_matter", matter_id=summary["id"])
        if detail["publications"]:
            detail["publications"] = [{**record, "state": record_state(verdict, record["seq"])}
                                      for record in detail["publications"]]
            matters.append(detail)
    matters.sort(key=lambda m: (m["proposed_on"] or "", m["id"]), reverse=True)
    name = page.unit_name(branch_id, _village_of(page, branch_id, verdict))
    return page.render("village.html", branch_id=branch_id, village=name, verdict=verdict,
                       matters=matters, power=power)


def _village_of(page, branch_id, verdict):
    """The village's name from its first public record when the gateway does not know it."""
    if not verdict["records"]:
        return None
    try:
        return page.own("affairs", "public_record", branch_id=branch_id, seq=1)[
            "content"]["village"]
    except NotFound:
        return None


def record_state(verdict, seq) -> str:
    """``ok``, ``broken`` (the first record that fails) or ``after`` (beyond the break)."""
    broken = verdict.get("broken_at")
    if verdict.get("holds") or broken is None or seq < broken:
        return "ok"
    return "broken" if seq == broken else "after"


def record(page, branch_id, seq) -> Response:
    found = page.own("affairs", "public_record", branch_id=branch_id, seq=seq)
    verdict = page.own("affairs", "verify_chain", branch_id=branch_id)
    power = page.own("affairs", "power_list")
    code = page.own("affairs", "qr_code", branch_id=branch_id, seq=seq, image_format="svg")
    return page.render("record.html", branch_id=branch_id, seq=seq, record=found,
                       content=found["content"], verdict=verdict, power=power,
                       state=record_state(verdict, seq),
                       qr=f"data:{code['content_type']};base64,{code['data_base64']}",
                       qr_url=code["url"])


# -- public: a ticket's status ---------------------------------------------------------------------

def ticket(page) -> Response:
    asked = page.request.args.get("number")
    if asked is None:
        return page.render("ticket.html", number="", error=None, ticket=None)
    number = rules.ticket_number(asked)
    if number is None:
        return page.render("ticket.html", 400, number=asked, ticket=None,
                           error=page.t("ticket.bad_number"))
    try:
        found = rules.public_ticket(page.own("tickets", "get_ticket", ticket_id=number))
    except NotFound:
        return page.render("ticket.html", 404, number=asked, ticket=None,
                           error=page.t("ticket.missing", number=number))
    try:
        found["matter_name"] = page.own("tickets", "get_matter", code=found["matter_code"])["name"]
    except NotFound:
        found["matter_name"] = found["matter_code"]
    return page.render("ticket.html", number=str(number), error=None, ticket=found)


# -- the console -----------------------------------------------------------------------------------

def console_caller(page, required=True):
    """The logged-in caller from the cookies (refreshing an expired access token once), kept
    on ``page``; ``NeedLogin`` without one when ``required``."""
    gateway, cookies = page.gateway, page.request.cookies
    token = cookies.get(rules.ACCESS_COOKIE)
    had_session = bool(token or cookies.get(rules.REFRESH_COOKIE))
    caller = None
    if token:
        try:
            caller = gateway.caller(_Bearer(token), required=True)
        except Unauthenticated:
            caller = None
    if caller is None and cookies.get(rules.REFRESH_COOKIE):
        caller = _refreshed(page, cookies[rules.REFRESH_COOKIE])
    if caller is None and required:
        raise NeedLogin(expired=had_session)
    page.caller = caller
    return caller


def _refreshed(page, refresh_token):
    now = tokens.utcnow()
    try:
        with page.store.transaction() as session:
            pair = accounts.refresh(session, refresh_token, page.settings, now)
    except accounts.ReusedRefreshToken as reused:
        with page.store.transaction() as session:
            accounts.revoke_family(session, reused.family)
        return None
    except Unauthenticated:
        return None
    _keep_session(page, pair, csrf=page.request.cookies.get(rules.CSRF_COOKIE))
    return page.gateway.caller(_Bearer(pair["access_token"]), required=True)


def _keep_session(page, pair, csrf=None):
    base = page.settings.get("public_base_url")
    page.cookies.append((rules.ACCESS_COOKIE, pair["access_token"],
                         {**rules.cookie_options(base), "max_age": pair["expires_in"]}))
    days = int(page.settings["refresh_days"]) * 86400
    page.cookies.append((rules.REFRESH_COOKIE, pair["refresh_token"],
                         {**rules.cookie_options(base, rules.CONSOLE), "max_age": days}))
    page.cookies.append((rules.CSRF_COOKIE, csrf or secrets.token_urlsafe(24),
                         {**rules.cookie_options(base, rules.CONSOLE), "max_age": days}))


def _end_session(page):
    base = page.settings.get("public_base_url")
    page.cookies.append((rules.ACCESS_COOKIE, None, rules.cookie_options(base)))
    for name in (rules.REFRESH_COOKIE, rules.CSRF_COOKIE):
        page.cookies.append((name, None, rules.cookie_options(base, rules.CONSOLE)))


def csrf_of(page):
    """The CSRF token of this session (the one a refresh just set, else the cookie's)."""
    for name, value, _ in reversed(page.cookies):
        if name == rules.CSRF_COOKIE and value:
            return value
    return page.request.cookies.get(rules.CSRF_COOKIE)


def csrf_ok(page) -> bool:
    return rules.same_token(page.request.form.get("csrf"), page.request.cookies.get(
        rules.CSRF_COOKIE))


def login_form(page, status=200, message=None, errors=None, username="", next_page=None):
    return page.render("login.html", status, message=message, errors=errors or {},
                       username=username, next_page=rules.safe_next(
                           next_page or page.request.args.get("next")))


def login(page) -> Response:
    request, t = page.request, page.t
    if request.method == "GET":
        message = t("login.expired") if request.args.get("expired") else None
        return login_form(page, message=message)
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    next_page = request.form.get("next")
    errors = {name: [t("login.required")] for name, value in
              (("username", username), ("password", password)) if not value}
    if errors or len(username) > 64 or len(password) > 256:
        return login_form(page, 400, errors=errors or {"username": [t("login.wrong")]},
                          username=username, next_page=next_page)
    now, address = tokens.utcnow(), request.remote_addr or "-"
    status = 303
    try:
        with page.store.transaction() as session:
            pair = accounts.login(session, username, password, address, page.settings, now)
    except TooManyAttempts as locked:
        status = 429
        response = login_form(page, 429, message=t("login.locked", seconds=locked.retry_after),
                              username=username, next_page=next_page)
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    except Unauthenticated:
        status = 401
        with page.store.transaction() as session:
            accounts.record_failure(session, username, address, now)
        return login_form(page, 401, message=t("login.wrong"), username=username,
                          next_page=next_page)
    finally:
        page.gateway._audit(request, dict(dispatch.ANONYMOUS), "page.login", status,
                            page.request_id)
    _keep_session(page, pair)
    return page.redirect(rules.safe_next(next_page))


def logout(page) -> Response:
    caller = console_caller(page, required=False)
    if caller is not None and not csrf_ok(page):
        return page.render("error.html", 403, message=page.t("error.csrf"))
    if caller is not None and "claims" in caller:
        with page.store.transaction() as session:
            accounts.logout(session, caller["claims"],
                            page.request.cookies.get(rules.REFRESH_COOKIE), tokens.utcnow())
        page.gateway._audit(page.request, caller, "page.logout", 303, page.request_id)
    _end_session(page)
    page.caller = None
    return page.redirect("/console/login")


def console(page) -> Response:
    """``/console``: the view of the user's scope (``console.overview``)."""
    return console_views.overview(page)


def console_section(page, section) -> Response:
    """``/console/<section>``: a unit's view (``units/<id>``), the console's forms
    (``forms.SECTIONS``) and sheet templates."""
    unit_id = rules.console_unit(section)
    if unit_id is not None:
        return console_views.overview(page, unit_id)
    return forms.section(page, section)


def home(page) -> Response:
    """``/``: the public landing page (``console.home``)."""
    return console_views.home(page)


def activity(page) -> Response:
    caller = console_caller(page)
    page.gateway.authorise(caller, "activities.write", None)
    if page.request.method == "GET":
        return _activity_form(page, {"occurred_on": page.today.isoformat()})
    form = page.request.form.to_dict()
    if not csrf_ok(page):
        return page.render("error.html", 403, message=page.t("error.csrf"))
    payload = rules.activity_payload(form)
    status, errors, rest = 201, {}, []
    try:
        branch_id = _member_in_scope(page, payload.get("member_id"))
        recorded = page.as_user("members", "record_activity", writes=True,
                                idempotency_key=form_key(form.get("idempotency_key")),
                                payload=payload)
    except _FieldProblem as problem:
        status, errors = 422, {problem.field: [problem.reason]}
    except InvalidInput as refused:
        status = 422
        errors, rest = rules.split_errors(refused.errors)
    except Conflict as conflict:
        status, rest = 409, [("_schema", str(conflict))]
    finally:
        page.gateway._audit(page.request, caller, "members.record_activity", status,
                            page.request_id)
    if status != 201:
        return _activity_form(page, form, errors, rest, status)
    branch = page.unit(branch_id)
    return page.render("activity_done.html", status=201, recorded=recorded, branch=branch,
                       board_url=page.url("/boards", kind="member", unit=branch_id,
                                          period=rules.month_of(page.today)),
                       csrf=csrf_of(page))


class _FieldProblem(Exception):
    def __init__(self, field, reason):
        super().__init__(reason)
        self.field, self.reason = field, reason


def _member_in_scope(page, member_id):
    """The member's branch, once the caller's scope covers it; a field problem otherwise. A
    form without a member number goes to the service, which names the field."""
    if member_id is None:
        return None
    number = rules.ticket_number(member_id)
    if number is None:
        raise _FieldProblem("member_id", "must be a positive whole number")
    try:
        member = page.as_user("members", "get_member", member_id=number)
    except NotFound:
        raise _FieldProblem("member_id", page.t("activity.no_member")) from None
    try:
        roles.check(page.caller, "activities.write", member["branch_id"], page.gateway.parent_of)
    except roles.Denied as denied:
        raise _FieldProblem("member_id", denied.reason) from None
    return member["branch_id"]


def form_key(value):
    value = (value or "").strip()
    return value if 1 <= len(value) <= 64 and value.isprintable() else None


def _activity_form(page, values, errors=None, rest=(), status=200):
    return page.render("activity.html", status, values=values, errors=errors or {},
                       rest=list(rest), fields=rules.ACTIVITY_FIELDS, csrf=csrf_of(page),
                       idempotency_key=str(uuid.uuid4()))


# -- static files ----------------------------------------------------------------------------------

def static(request, name) -> Response:
    path = safe_join(str(STATIC), name)
    if path is None or not Path(path).is_file():
        return Response("not found", status=404, mimetype="text/plain")
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = Response(Path(path).read_bytes(), mimetype=kind)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
