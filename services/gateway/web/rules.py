"""The pages' rules that need no server (pure): periods and their names, which board a query
asks for, how names and levels are shown, what of a ticket the public sees, the activity form's
fields and errors, and the console's cookies and redirects."""
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

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
