"""The pages' rules that need no server (pure): periods and their names, which board a query
asks for, how names and levels are shown, what of a ticket the public sees, the activity form's
fields and errors, the console's cookies and redirects, its views' figures (tickets by time
limit, matters in progress, star levels, months), its forms' payloads and errors (a matter's
step, opening and escalating a ticket) and a sheet upload's checks and row errors."""
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote

from services.gateway.web import i18n
from shared.contracts.members import ACTIVITY_KINDS

# -- periods ---------------------------------------------------------------------------------------

PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4]))?$")


@dataclass(frozen=True)
class Period:
    key: str
    kind: str          # month | quarter | year
    year: int
    number: int        # the month or quarter; 1 for a year


def parse_period(value) -> Period | None:
    """``2026-11``, ``2026-Q4`` or ``2026`` (years 1900 to 2999); None for anything else."""
    if not isinstance(value, str):
        return None
    match = PERIOD.fullmatch(unicodedata.normalize("NFKC", value).strip().upper())
    if not match or not 1900 <= int(match["year"]) <= 2999:
        return None
    year = int(match["year"])
    if match["month"]:
        return Period(f"{year}-{match['month']}", "month", year, int(match["month"]))
    if match["quarter"]:
        return Period(f"{year}-Q{match['quarter']}", "quarter", year, int(match["quarter"]))
    return Period(str(year), "year", year, 1)


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def period_label(lang: str, key: str) -> str:
    period = parse_period(key)
    if period is None:
        return key
    if period.kind == "month":
        return i18n.text(lang, "period.month", year=period.year, month=period.number,
                         month_name=i18n.MONTH_NAMES[period.number - 1])
    if period.kind == "quarter":
        return i18n.text(lang, "period.quarter", year=period.year, quarter=period.number)
    return i18n.text(lang, "period.year", year=period.year)


def period_choices(today: date, chosen: str | None = None, months=12, quarters=4,
                   years=3) -> dict[str, list[str]]:
    """The periods a board offers, newest first: the last ``months`` months, ``quarters``
    quarters and ``years`` years up to ``today``'s, plus ``chosen`` where it belongs when it
    is none of them."""
    found = {"month": [], "quarter": [], "year": []}
    year, month = today.year, today.month
    for _ in range(months):
        found["month"].append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(quarters):
        found["quarter"].append(f"{year}-Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    found["year"] = [str(today.year - n) for n in range(years)]
    period = parse_period(chosen) if chosen else None
    if period is not None and period.key not in found[period.kind]:
        found[period.kind].append(period.key)
        found[period.kind].sort(reverse=True)
    return found


# -- which board -----------------------------------------------------------------------------------

SUBJECT_KINDS = ("member", "branch", "committee")
SCOPES_OF = {"member": ("county", "township", "branch"), "branch": ("county", "township"),
             "committee": ("county",)}
TOWNSHIP_KINDS = ("township_committee", "street_committee")
BRANCH_KINDS = ("village_branch", "community_branch", "institution_branch", "nonpublic_branch")


@dataclass(frozen=True)
class Board:
    kind: str                # member | branch | committee
    scope: str               # county | township | branch
    unit_id: int | None      # the township or branch, None for the county
    period: str


def scope_of_unit(unit_kind: str | None) -> str:
    if unit_kind in TOWNSHIP_KINDS:
        return "township"
    if unit_kind in BRANCH_KINDS:
        return "branch"
    return "county"


def board_of(args: dict, today: date, unit_kind_of) -> Board:
    """The board a query asks for (``kind``, ``unit``, ``period``), anything unusable replaced
    by the default: members of the county this month. ``unit_kind_of(id)`` is the kind of a
    known unit (None when unknown). A unit whose scope the kind is not ranked by (a branch
    board within a branch) falls back to the county."""
    kind = args.get("kind") if args.get("kind") in SUBJECT_KINDS else "member"
    period = parse_period(args.get("period") or "")
    key = period.key if period else month_of(today)
    unit = args.get("unit") or ""
    unit_id = int(unit) if unit.isascii() and unit.isdigit() and 0 < int(unit) < 2**63 else None
    scope = scope_of_unit(unit_kind_of(unit_id)) if unit_id is not None else "county"
    if scope not in SCOPES_OF[kind] or scope == "county":
        return Board(kind, "county", None, key)
    return Board(kind, scope, unit_id, key)


# -- how things are shown --------------------------------------------------------------------------

def masked_name(name: str | None) -> str:
    """A member's name on a public board: the surname and one ＊ per hidden character
    (王小明 -> 王＊＊); a Latin name keeps its first letter."""
    if not name:
        return "＊"
    name = name.strip()
    if len(name) <= 1:
        return name or "＊"
    if name.isascii():
        return name[0] + "*" * (len(name.replace(" ", "")) - 1)
    return name[0] + "＊" * (len(name) - 1)


def star_glyphs(level, most=5) -> str:
    level = max(0, min(most, int(level or 0)))
    return "★" * level + "☆" * (most - level)


def short_hash(value: str | None, keep=12) -> str:
    return "" if not value else f"{value[:keep]}…"


def step_rows(steps, power: dict) -> list[dict]:
    """A matter's steps for the table, from ``get_matter`` (``attendance``/``votes``) or from a
    public record's content (``members``/``present``/``for``/...): the step's and meeting's
    names from the power list, "members / present" and "for / against / abstain" when held."""
    names = power.get("steps") or {}
    meetings = power.get("meetings") or {}
    rows = []
    for step in steps or ():
        attendance = step.get("attendance") or (
            {"members": step["members"], "present": step.get("present")}
            if step.get("members") is not None else None)
        votes = step.get("votes") or (
            {"for": step["for"], "against": step.get("against"), "abstain": step.get("abstain")}
            if step.get("for") is not None else None)
        form = step.get("form")
        rows.append({
            "name": (names.get(step.get("step")) or {}).get("name") or step.get("name")
            or step.get("step"),
            "form": (meetings.get(form) or {}).get("name") if form else None,
            "on": step.get("on"), "outcome": step.get("outcome"),
            "attendance": f"{attendance['members']} / {attendance['present']}"
            if attendance else "",
            "votes": f"{votes['for']} / {votes['against']} / {votes['abstain']}" if votes else "",
            "superseded": bool(step.get("superseded"))})
    return rows


# -- tickets ---------------------------------------------------------------------------------------

PUBLIC_TICKET = ("id", "matter_code", "status", "level", "opened_on", "due_on", "resolved_on",
                 "breached", "escalations")
PUBLIC_CHANGE = ("at", "action", "to_status", "level")


def ticket_number(value) -> int | None:
    """A ticket number as a villager types it (full-width digits, a leading # or spaces
    allowed); None when it is not one."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().lstrip("#№").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) < 1:
        return None
    return int(text)


def public_ticket(ticket: dict) -> dict:
    """What anyone with the number may see: the matter, status, level, dates and what happened
    when (in China time); never the requester, their phone or address, the staff's names or
    notes."""
    shown = {name: ticket.get(name) for name in PUBLIC_TICKET}
    shown["history"] = [{**{name: change.get(name) for name in PUBLIC_CHANGE},
                         "at": china_time(change.get("at"))}
                        for change in ticket.get("history") or ()]
    return shown


CHINA = timezone(timedelta(hours=8))


def china_time(value) -> str:
    """An ISO moment (``...Z`` or with an offset; naive is UTC) as ``YYYY-MM-DD HH:MM`` in
    China Standard Time; what cannot be read is shown as given."""
    if not isinstance(value, str) or not value:
        return value or ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


# -- the activity form -----------------------------------------------------------------------------

MEETING_KINDS = ("branch_committee", "member_assembly", "group_meeting", "party_lesson")
# (field, input type, choices, required, hint key)
ACTIVITY_FIELDS = (
    ("member_id", "number", None, True, None),
    ("kind", "select", ACTIVITY_KINDS, True, None),
    ("occurred_on", "date", None, True, None),
    ("hours", "decimal", None, False, "activity.hours.hint"),
    ("team_id", "number", None, False, None),
    ("project", "text", None, False, None),
    ("meeting_kind", "select", MEETING_KINDS, False, "activity.meeting_kind.hint"),
    ("attended", "yesno", ("true", "false"), False, "activity.attended.hint"),
    ("amount", "decimal", None, False, "activity.amount.hint"),
    ("households", "number", None, False, "activity.households.hint"),
)
ACTIVITY_FIELD_NAMES = tuple(spec[0] for spec in ACTIVITY_FIELDS)


def activity_payload(form: dict) -> dict:
    """The ``record_activity`` payload from the form: each field as typed (the service checks
    and explains), empty fields left out, ``attended`` as a boolean."""
    payload = {}
    for name in ACTIVITY_FIELD_NAMES:
        value = (form.get(name) or "").strip()
        if not value:
            continue
        if name == "attended":
            payload[name] = {"true": True, "false": False}.get(value, value)
        else:
            payload[name] = value
    return payload


def split_errors(errors: dict, fields=ACTIVITY_FIELD_NAMES) -> tuple[dict, list]:
    """The service's ``InvalidInput.errors`` as (reasons by form field, [(name, reason)] of the
    rest); ``payload.member_id`` and ``member_id`` are the same field."""
    by_field, rest = {}, []
    for name, reasons in (errors or {}).items():
        field = name.removeprefix("payload.")
        if field in fields:
            by_field.setdefault(field, []).extend(str(r) for r in reasons)
        else:
            rest.extend((field, str(r)) for r in reasons)
    return by_field, rest


# -- the console's session -------------------------------------------------------------------------

ACCESS_COOKIE = "jiceng_access"
REFRESH_COOKIE = "jiceng_refresh"
CSRF_COOKIE = "jiceng_csrf"
CONSOLE = "/console"


def safe_next(value) -> str:
    """Where to go after logging in: a console page of this site, never another site."""
    if not isinstance(value, str) or not value.startswith(CONSOLE):
        return CONSOLE
    if "//" in value or "\\" in value or any(ord(c) < 32 for c in value):
        return CONSOLE
    rest = value[len(CONSOLE):]
    return value if rest == "" or rest[0] in "/?" else CONSOLE


def same_token(given, expected) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


def cookie_options(public_base_url: str, path="/") -> dict:
    """HttpOnly, SameSite=Strict, Secure when the site is served over https."""
    return {"httponly": True, "samesite": "Strict", "path": path,
            "secure": str(public_base_url or "").startswith("https://")}


# -- the console's views ---------------------------------------------------------------------------

def console_view(scope_kind: str | None, county_wide: bool) -> str:
    """Which view a logged-in user gets: ``county`` (no scope), ``township`` (a township's
    staff) or ``branch`` (a village branch's cadre)."""
    if county_wide or scope_kind is None:
        return "county"
    if scope_kind in TOWNSHIP_KINDS:
        return "township"
    return "branch" if scope_kind in BRANCH_KINDS else "county"


TIME_LIMIT_STATES = ("breached", "due_soon", "on_track", "paused", "done")
FINISHED = ("resolved", "closed")


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def time_limit_state(ticket: dict, today: date, soon_days=1) -> str:
    """Where a ticket stands against its time limit: ``done`` (resolved or closed), ``paused``
    (waiting: the clock stops), ``breached`` (past its due day, or marked so), ``due_soon``
    (due within ``soon_days``) or ``on_track``."""
    if ticket.get("status") in FINISHED:
        return "done"
    if ticket.get("status") == "waiting" or ticket.get("paused_on"):
        return "paused"
    due = _day(ticket.get("due_on"))
    if ticket.get("breached") or (due is not None and due < today):
        return "breached"
    if due is not None and (due - today).days <= soon_days:
        return "due_soon"
    return "on_track"


def tickets_by_time_limit(tickets, today: date) -> dict[str, list]:
    """The tickets grouped by ``time_limit_state``, every state present, order kept."""
    grouped = {state: [] for state in TIME_LIMIT_STATES}
    for ticket in tickets or ():
        grouped[time_limit_state(ticket, today)].append(ticket)
    return grouped


MATTERS_IN_PROGRESS = ("deliberating", "resolved", "executing")


def matters_in_progress(matters) -> tuple[dict[str, int], list[dict]]:
    """(how many matters are at each unfinished status, those matters oldest first)."""
    counts = {status: 0 for status in MATTERS_IN_PROGRESS}
    open_ones = [m for m in matters or () if m.get("status") in counts]
    for matter in open_ones:
        counts[matter["status"]] += 1
    open_ones.sort(key=lambda m: (m.get("proposed_on") or "", m.get("id") or 0))
    return counts, open_ones


def level_counts(entries, most=5) -> list[tuple[int, int]]:
    """``[(level, how many entries hold it)]`` for levels 0 to ``most`` (a board's entries)."""
    found = {level: 0 for level in range(most + 1)}
    for entry in entries or ():
        level = max(0, min(most, int(entry.get("level") or 0)))
        found[level] += 1
    return sorted(found.items())


def recent_months(today: date, count=6) -> list[str]:
    """The last ``count`` months up to ``today``'s, oldest first (``2026-06`` ... ``2026-11``)."""
    return list(reversed(period_choices(today, months=count, quarters=0, years=0)["month"]))


def month_bounds(key: str) -> tuple[date, date]:
    """The first and last day of the month ``key`` (``2026-11``)."""
    period = parse_period(key)
    if period is None or period.kind != "month":
        raise ValueError(f"not a month: {key!r}")
    first = date(period.year, period.number, 1)
    following = date(period.year + period.number // 12, period.number % 12 + 1, 1)
    return first, following - timedelta(days=1)


def percent(share) -> float | None:
    """A service's share (``"0.8333"``, 0.5, None) as a percentage rounded to one place."""
    if share is None or share == "":
        return None
    try:
        return round(float(share) * 100, 1)
    except (TypeError, ValueError):
        return None


# -- the console's forms ---------------------------------------------------------------------------

def whole_number(value) -> int | None:
    """A count as typed (full-width digits and spaces allowed), 0 or more; None when it is
    not one."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


NOT_WHOLE = "must be a whole number (0 or more)"
REQUIRED = "is required"

# (field, input type, required, hint key); record_step's payload names in STEP_PAYLOAD_NAME
STEP_FIELDS = (
    ("matter_id", "number", True, "stepform.matter_id.hint"),
    ("step", "select", True, None),
    ("on", "date", True, None),
    ("form", "select", False, "stepform.form.hint"),
    ("attendance_members", "number", False, "stepform.attendance.hint"),
    ("attendance_present", "number", False, None),
    ("votes_for", "number", False, "stepform.votes.hint"),
    ("votes_against", "number", False, None),
    ("votes_abstain", "number", False, None),
    ("notice_days", "number", False, "stepform.notice_days.hint"),
    ("note", "textarea", False, None),
)
STEP_FIELD_NAMES = tuple(spec[0] for spec in STEP_FIELDS)
STEP_COUNTS = ("attendance_members", "attendance_present", "votes_for", "votes_against",
               "votes_abstain", "notice_days")
# the service's names (``shared.validation`` dotted paths) -> the form's fields
STEP_FIELD_OF = {"attendance.members": "attendance_members", "attendance": "attendance_members",
                 "attendance.present": "attendance_present", "votes.for": "votes_for",
                 "votes": "votes_for", "votes.against": "votes_against",
                 "votes.abstain": "votes_abstain"}


def step_payload(form: dict, recorded_by: str) -> tuple[int | None, dict, dict]:
    """(the matter, the ``record_step`` payload, reasons by field for what cannot even be
    sent): counts must be whole numbers, attendance is both figures or neither, votes all
    three or none; the rest (step, date, quorum) the service checks and names."""
    value = {name: (form.get(name) or "").strip() for name in STEP_FIELD_NAMES}
    errors = {}
    matter_id = ticket_number(value["matter_id"]) if value["matter_id"] else None
    if matter_id is None:
        errors["matter_id"] = [REQUIRED if not value["matter_id"] else
                               "must be a positive whole number"]
    counts = {}
    for name in STEP_COUNTS:
        if value[name]:
            counts[name] = whole_number(value[name])
            if counts[name] is None:
                errors[name] = [NOT_WHOLE]
    _all_or_none(value, ("attendance_members", "attendance_present"), errors,
                 "give both the members and how many were present, or neither")
    _all_or_none(value, ("votes_for", "votes_against", "votes_abstain"), errors,
                 "give all three vote counts, or none")
    payload = {"recorded_by": recorded_by}
    for name in ("step", "on", "form", "note"):
        if value[name]:
            payload[name] = value[name]
    if counts.get("attendance_members") is not None and \
            counts.get("attendance_present") is not None:
        payload["attendance"] = {"members": counts["attendance_members"],
                                 "present": counts["attendance_present"]}
    if all(counts.get(n) is not None for n in ("votes_for", "votes_against", "votes_abstain")):
        payload["votes"] = {"for": counts["votes_for"], "against": counts["votes_against"],
                            "abstain": counts["votes_abstain"]}
    if counts.get("notice_days") is not None:
        payload["notice_days"] = counts["notice_days"]
    return matter_id, payload, errors


def _all_or_none(value, names, errors, reason):
    given = [name for name in names if value[name]]
    if given and len(given) < len(names):
        for name in names:
            if not value[name]:
                errors.setdefault(name, []).append(reason)


def form_errors(errors: dict, fields, renamed=None) -> tuple[dict, list]:
    """A service's ``InvalidInput.errors`` as (reasons by form field, [(name, reason)] of the
    rest); ``payload.`` prefixes dropped, dotted names mapped through ``renamed``."""
    renamed = renamed or {}
    by_field, rest = {}, []
    for name, reasons in (errors or {}).items():
        bare = name.removeprefix("payload.")
        field = renamed.get(bare, bare)
        if field in fields:
            by_field.setdefault(field, []).extend(str(r) for r in reasons)
        else:
            rest.extend((bare, str(r)) for r in reasons)
    return by_field, rest


TICKET_FIELDS = (
    ("service_point_id", "select", True, None),
    ("matter_code", "select", True, None),
    ("requester_name", "text", True, None),
    ("requester_phone", "tel", False, "ticket_form.requester_phone.hint"),
    ("address", "text", False, None),
    ("description", "textarea", False, None),
)
TICKET_FIELD_NAMES = tuple(spec[0] for spec in TICKET_FIELDS)
ESCALATE_FIELDS = (
    ("ticket_id", "number", True, None),
    ("reason", "textarea", True, None),
    ("note", "textarea", False, None),
)
ESCALATE_FIELD_NAMES = tuple(spec[0] for spec in ESCALATE_FIELDS)


def ticket_payload(form: dict) -> dict:
    """The ``open_ticket`` payload: the fields as typed, empty ones left out (the service
    checks and names them); the service point as a number when it is one."""
    payload = {}
    for name in TICKET_FIELD_NAMES:
        value = (form.get(name) or "").strip()
        if value:
            payload[name] = value
    point = ticket_number(payload.get("service_point_id"))
    if point is not None:
        payload["service_point_id"] = point
    return payload


def escalation(form: dict) -> tuple[int | None, dict, dict]:
    """(the ticket, the ``escalate_ticket`` payload, reasons by field for a missing or
    unreadable ticket number)."""
    raw = (form.get("ticket_id") or "").strip()
    ticket_id = ticket_number(raw) if raw else None
    errors = {} if ticket_id is not None else {"ticket_id": [
        REQUIRED if not raw else "must be a positive whole number"]}
    payload = {name: (form.get(name) or "").strip() for name in ("reason", "note")}
    return ticket_id, {k: v for k, v in payload.items() if v}, errors


# -- sheet uploads ---------------------------------------------------------------------------------

SHEET_KINDS = {"activities": "import_activities", "members": "import_members"}
SHEET_SUFFIXES = (".csv", ".xlsx")
MAX_SHEET_BYTES = 5 * 1024 * 1024
ROW_ERROR = re.compile(r"^row (?P<row>\d+)\.(?P<column>.+)$")
SHEET_FILE_FIELDS = ("file", "filename", "content_base64")


def sheet_problem(filename: str, size: int) -> str | None:
    """Why an uploaded file is not worth sending to the service, or None."""
    if not filename or size == 0:
        return "choose a CSV or XLSX file"
    if not filename.lower().endswith(SHEET_SUFFIXES):
        return "must be a .csv or .xlsx file"
    if size > MAX_SHEET_BYTES:
        return f"is larger than {MAX_SHEET_BYTES // (1024 * 1024)} MB"
    return None


def sheet_errors(errors: dict) -> tuple[list[tuple[int, str, str]], dict, list]:
    """A sheet import's ``InvalidInput.errors`` as (``[(row, column, reason)]`` by row,
    reasons by form field (``file``, ``branch_id``), ``[(name, reason)]`` of the rest)."""
    rows, by_field, rest = [], {}, []
    for name, reasons in (errors or {}).items():
        match = ROW_ERROR.fullmatch(name)
        if match:
            rows.extend((int(match["row"]), match["column"], str(r)) for r in reasons)
        elif name in SHEET_FILE_FIELDS:
            by_field.setdefault("file", []).extend(str(r) for r in reasons)
        elif name == "branch_id":
            by_field.setdefault("branch_id", []).extend(str(r) for r in reasons)
        else:
            rest.extend((name, str(r)) for r in reasons)
    rows.sort(key=lambda row: row[0])
    return rows, by_field, rest


# -- sheet templates and the console's paths ------------------------------------------------------

@dataclass(frozen=True)
class SheetTemplate:
    rpc: str              # the members RPC answering the template as base64 CSV
    permission: str
    filename: str         # as saved (Chinese)
    fallback: str         # ASCII, for programs that do not read ``filename*``


SHEET_TEMPLATES = {
    "activities": SheetTemplate("activity_sheet_template", "activities.write",
                                "党员活动表模板.csv", "activity-sheet-template.csv"),
    "members": SheetTemplate("member_sheet_template", "members.write",
                             "党员名册模板.csv", "member-roster-template.csv"),
}
UTF8_BOM = b"\xef\xbb\xbf"
CONSOLE_UNIT = re.compile(r"units/(?P<unit>[1-9]\d{0,17})")
CONSOLE_TEMPLATE = re.compile(r"templates/(?P<kind>[a-z]+)\.csv")


def excel_csv(content: bytes) -> bytes:
    """CSV bytes as Excel opens them correctly: UTF-8 with a byte-order mark (added once)."""
    return content if content.startswith(UTF8_BOM) else UTF8_BOM + content


def attachment(filename: str, fallback: str) -> str:
    """A ``Content-Disposition`` saving the download as ``filename`` (RFC 6266/5987, UTF-8),
    ``fallback`` (ASCII) for older programs."""
    plain = "".join(c for c in fallback if c.isascii() and c.isprintable() and c not in '"\\')
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def console_unit(section: str) -> int | None:
    """The unit a ``/console/units/<id>`` path names, or None for any other path."""
    match = CONSOLE_UNIT.fullmatch(section.strip("/"))
    return int(match["unit"]) if match and int(match["unit"]) < 2**63 else None


def console_template(section: str) -> str | None:
    """The sheet a ``/console/templates/<kind>.csv`` path names (any word: unknown kinds are the
    caller's 404), or None for any other path."""
    match = CONSOLE_TEMPLATE.fullmatch(section.strip("/"))
    return match["kind"] if match else None
