"""The staff console's overview and the public landing page.

After logging in, the console shows the view of the user's scope (``rules.console_view``):

* ``township``: the township's tickets by time-limit status with this month's service-centre
  measures, its village matters in progress, the star levels of its branches and the
  committee's monthly score;
* ``branch``: the same for one village branch (its members' star levels);
* ``county`` (county administrators, auditors): the townships side by side.

``/console/units/<id>`` shows the same view of a unit inside the user's scope (a township's
staff opening one of its villages); a unit outside it is refused with a page naming both.

Every figure is asked with the user's own context (``Page.as_user``), so the services check
the scope as they do for the API; the lists name the user's unit (``unit_id``,
``township_id``) as a scoped caller must. Each panel stands alone: a service that is down or
refuses shows its reason in that panel, and the rest of the console still works."""
import logging

import eventlet

from nameko.exceptions import RpcTimeout, UnknownService

from services.gateway import roles
from services.gateway.web import charts, i18n, pages, rules
from shared.errors import Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)
TICKETS_SHOWN = 500
MATTERS_SHOWN = 500          # of each status
TREND_MONTHS = 6


class Panel:
    """What one panel shows: its figures, or the reason it could not get them."""

    def __init__(self, **figures):
        self.figures, self.problem = figures, None

    def __getattr__(self, name):
        try:
            return self.__dict__["figures"][name]
        except KeyError:
            raise AttributeError(name) from None


def panel(page, name, build) -> Panel:
    """``build()`` as a panel; a refusal or an outage becomes the panel's ``problem``."""
    try:
        return build()
    except (Forbidden, InvalidInput, NotFound, roles.Denied) as refused:
        log.info("console panel %s refused for %s: %s", name, page.caller["user"], refused)
        shown = Panel()
        shown.original = getattr(refused, "reason", str(refused))
        shown.problem = page.t("panel.refused", reason=i18n.reason(page.lang, shown.original))
        return shown
    except (RpcTimeout, UnknownService) as down:
        log.warning("console panel %s: %s (request %s)", name, down, page.request_id)
        shown = Panel()
        shown.problem = page.t("panel.down")
        return shown


def overview(page, unit_id=None):
    """The console of the user's scope, or of ``unit_id`` when the scope covers it."""
    caller = pages.console_caller(page)
    own = page.unit(caller["scope_unit_id"])
    scope = own
    if unit_id is not None and unit_id != caller["scope_unit_id"]:
        scope = page.unit(unit_id)
        if scope is None:
            raise NotFound(f"no unit {unit_id}")
        if not roles.covers(caller["scope_unit_id"], unit_id, page.gateway.parent_of):
            log.info("console: unit %s is outside the scope of %s", unit_id, caller["user"])
            return page.render("error.html", 403, message=page.t(
                "error.outside", unit=scope["name"],
                scope=own["name"] if own else page.t("scope.county")))
    view = rules.console_view(scope and scope["kind"], scope is None)
    month = rules.month_of(page.today)
    held = caller["permissions"]
    context = {
        "csrf": pages.csrf_of(page), "scope": scope, "view": view, "month": month,
        "viewing": scope if scope is not own else None, "own_scope": own,
        "can_record": roles.granted(held, "activities.write"),
        "can_affairs": roles.granted(held, "affairs.write"),
        "can_tickets": roles.granted(held, "tickets.write"),
    }
    if view == "county":
        context["county"] = panel(page, "county", lambda: county_panel(page, month))
    else:
        township_id = scope["id"] if view == "township" else scope["parent_id"]
        context.update(at_once({
            "tickets": lambda: panel(page, "tickets", lambda: tickets_panel(
                page, township_id, scope["id"], month)),
            "matters": lambda: panel(page, "matters", lambda: matters_panel(page, scope, view)),
            "stars": lambda: panel(page, "stars", lambda: stars_panel(page, scope, view, month)),
        }))
    return page.render("console.html", **context)


def at_once(calls: dict) -> dict:
    """``{name: call()}``, the calls made side by side (green threads): a panel's questions go
    to different services, so the page takes as long as its slowest panel, not their sum."""
    pool = eventlet.GreenPool(len(calls) or 1)
    threads = {name: pool.spawn(call) for name, call in calls.items()}
    return {name: thread.wait() for name, thread in threads.items()}


# -- township and branch panels --------------------------------------------------------------------

def tickets_panel(page, township_id, unit_id, month) -> Panel:
    """The tickets concerning ``unit_id`` (the township or the branch) by time limit, and
    the township's service-centre measures this month."""
    t = page.t
    found = page.as_user("tickets", "list_tickets", unit_id=unit_id, limit=TICKETS_SHOWN)
    grouped = rules.tickets_by_time_limit(found, page.today)
    counts = [(state, len(grouped[state])) for state in rules.TIME_LIMIT_STATES]
    measured = township_measures(page, township_id, month)
    shares = [(t(f"measure.{name}"), rules.percent((measured or {}).get(name)))
              for name in ("on_time", "settled_in_village", "settled_in_township", "satisfied")]
    chart = None if measured is None else charts.bar_chart(
        [(name, value or 0) for name, value in shares],
        t("chart.measures", period=page_period(page, month)),
        t("chart.desc.percent", summary=summary(shares)), "measures")
    urgent = grouped["breached"] + grouped["due_soon"]
    return Panel(counts=counts, urgent=urgent[:50], measures=measured, shares=shares,
                 chart=chart)


def township_measures(page, township_id, month) -> dict | None:
    """The township's ticket measures this month; None when the caller's scope is narrower
    than the township (a village cadre) or tickets does not know it yet."""
    first, last = rules.month_bounds(month)
    try:
        return page.as_user("tickets", "measures", scope="township", scope_id=township_id,
                            date_from=first.isoformat(), date_to=last.isoformat())
    except (Forbidden, NotFound) as refused:
        log.info("console: township measures not shown to %s: %s", page.caller["user"], refused)
        return None


def matters_panel(page, scope, view) -> Panel:
    """The matters of the township (or branch) at each unfinished status (``find_matters``,
    one call per status so a year of finished ones does not crowd them out)."""
    unit = {"township_id": scope["id"]} if view == "township" else {"branch_id": scope["id"]}
    found = []
    for status in rules.MATTERS_IN_PROGRESS:
        found += page.as_user("affairs", "find_matters", status=status, limit=MATTERS_SHOWN,
                              **unit)
    counts, open_ones = rules.matters_in_progress(found)
    for matter in open_ones:
        matter["village"] = page.unit_name(matter.get("branch_id"))
    return Panel(counts=list(counts.items()), matters=open_ones[:50], total=len(open_ones))


def stars_panel(page, scope, view, month) -> Panel:
    t = page.t
    kind = "branch" if view == "township" else "member"
    board = page.public("stars", "top", subject_kind=kind, scope_kind=view, scope_id=scope["id"],
                        period=month, n=500)
    levels = [(t("level", n=level), count) for level, count in
              rules.level_counts(board["entries"])]
    spread = charts.bar_chart(
        levels, t("chart.scope_levels", scope=scope["name"], kind=t(f"kind.{kind}"),
                  period=page_period(page, month)),
        t("chart.desc", summary=summary(levels)), "levels")
    subject = "committee" if view == "township" else "branch"

    def score_of(key):
        try:
            return float(page.as_user("stars", "score", subject_kind=subject,
                                      subject_id=scope["id"], period=key)["score"] or 0)
        except NotFound:
            return 0.0

    months = rules.recent_months(page.today, TREND_MONTHS)
    scores = at_once({key: (lambda key=key: score_of(key)) for key in months})
    trend = [(key, scores[key]) for key in months]
    shown = [(page_period(page, key), value) for key, value in trend]
    line = charts.line_chart(
        [(key[5:], value) for key, value in trend],
        t("chart.trend", scope=scope["name"]), t("chart.desc", summary=summary(shown)),
        "trend")
    return Panel(kind=kind, levels=levels, chart=spread, trend=shown, trend_chart=line)


# -- the county ------------------------------------------------------------------------------------

def county_panel(page, month) -> Panel:
    t = page.t
    townships = page.units(rules.TOWNSHIP_KINDS)
    board = page.public("stars", "top", subject_kind="committee", scope_kind="county",
                        scope_id=None, period=month, n=500)
    standing = {entry["subject_id"]: entry for entry in board["entries"]}
    in_progress = matters_by_township(page)
    first, last = rules.month_bounds(month)

    def measured_of(township_id):
        try:
            measured = page.as_user("tickets", "measures", scope="township",
                                    scope_id=township_id, date_from=first.isoformat(),
                                    date_to=last.isoformat())
        except (NotFound, Forbidden):
            return {"opened": None, "resolved": None, "on_time": None}
        return {"opened": measured["opened"], "resolved": measured["resolved"],
                "on_time": rules.percent(measured["on_time"])}

    measures = at_once({township["id"]: (lambda township_id=township["id"]:
                                         measured_of(township_id)) for township in townships})
    rows = []
    for township in townships:
        entry = standing.get(township["id"], {})
        rows.append({"id": township["id"], "name": township["name"],
                     "score": entry.get("score"), "level": entry.get("level"),
                     "rank": entry.get("rank"),
                     "matters": in_progress.get(township["id"])
                     if in_progress is not None else None,
                     **measures[township["id"]]})
    short = [(short_name(row["name"]), float(row["score"] or 0)) for row in rows]
    width = max(320, 64 * len(rows))
    titles = {"scores": t("chart.county_scores", period=page_period(page, month)),
              "on_time": t("chart.county_on_time", period=page_period(page, month))}
    scores = charts.bar_chart(short, titles["scores"], t("chart.desc", summary=summary(short)),
                              "scores", width=width)
    timely = [(short_name(row["name"]), row["on_time"] or 0) for row in rows]
    on_time = charts.bar_chart(timely, titles["on_time"],
                               t("chart.desc.percent", summary=summary(timely)), "on-time",
                               width=width)
    return Panel(rows=rows, scores=scores, on_time=on_time, titles=titles,
                 matters_known=in_progress is not None)


def matters_by_township(page) -> dict | None:
    """Matters in progress per township (affairs ``counts``), None when affairs refuses."""
    try:
        found = page.as_user("affairs", "counts", level="township")
    except (Forbidden, InvalidInput, RpcTimeout, UnknownService) as refused:
        log.info("console: affairs counts refused for %s: %s", page.caller["user"], refused)
        return None
    totals = {}
    for unit in found.get("units") or ():
        totals[unit["unit_id"]] = sum(
            number for statuses in (unit.get("by_category") or {}).values()
            for status, number in statuses.items() if status in rules.MATTERS_IN_PROGRESS)
    return totals


def short_name(name: str) -> str:
    """A township's name on a chart's axis: without its committee suffix."""
    for suffix in ("党委", "党工委", "委员会"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def summary(values) -> str:
    return "; ".join(f"{name} {'—' if value is None else value}" for name, value in values)


def page_period(page, key) -> str:
    return rules.period_label(page.lang, key)


# -- the public landing page -----------------------------------------------------------------------

def home(page):
    """The site's front page: the county's boards, each township's board and its villages'
    disclosure pages, the ticket lookup and the console."""
    townships = page.units(rules.TOWNSHIP_KINDS)
    villages = {}
    for branch in page.units(("village_branch", "community_branch")):
        villages.setdefault(branch["parent_id"], []).append(branch)
    return page.render("home.html", townships=[
        {**township, "villages": villages.get(township["id"], [])} for township in townships])
