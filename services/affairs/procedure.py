"""The order of the procedure (pure): what comes next, what a step out of place violates, the
status a matter is in and when its next step falls due.

A matter's recorded steps are given as ``{step code: Done}`` (steps voted down and steps undone
by a return are left out by the caller). ``problems(...)`` lists what recording ``step`` on a day
would violate; the caller refuses the step with the first reason, or, for a step recorded as it
happened, stores it with one violation per problem."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.affairs.powerlist import Procedure, Rules

STATUSES = ("deliberating", "resolved", "executing", "completed", "ended")


@dataclass(frozen=True)
class Done:
    step: str
    on: date


@dataclass(frozen=True)
class Problem:
    kind: str            # one of powerlist.VIOLATION_KINDS
    step: str            # the step the problem concerns (the missing one for a skip)
    reason: str


def step_of_kind(rules: Rules, procedure: Procedure, kind: str) -> str:
    return next(code for code in procedure.steps if rules.steps[code].kind == kind)


def next_step(procedure: Procedure, done: dict[str, Done]) -> str | None:
    return next((code for code in procedure.steps if code not in done), None)


def notice_ends(rules: Rules, publication: Done) -> date:
    """The first day the step after ``publication`` may happen."""
    return publication.on + timedelta(days=rules.steps[publication.step].notice_days)


def problems(rules: Rules, procedure: Procedure, done: dict[str, Done], step: str,
             on: date) -> list[Problem]:
    """What recording ``step`` on ``on`` violates, given the steps ``done``."""
    name = rules.steps[step].name
    before = procedure.before(step)
    execution_at = procedure.index(step_of_kind(rules, procedure, "execution"))
    found = []
    for code in before:
        if code in done:
            continue
        missing = rules.steps[code]
        if missing.kind == "publication" and procedure.index(code) < execution_at <= procedure.index(step):
            found.append(Problem("execution_before_resolution", code,
                                 f"{name} is recorded before the {missing.name} ({code})"))
        else:
            found.append(Problem("step_skipped", code,
                                 f"{missing.name} ({code}) must be recorded before {name}"))
    earlier = [done[code] for code in before if code in done]
    if earlier:
        latest = max(earlier, key=lambda d: (d.on, procedure.index(d.step)))
        if on < latest.on:
            found.append(Problem("out_of_order", step,
                                 f"{name} is dated {on}, before the "
                                 f"{rules.steps[latest.step].name} of {latest.on}"))
    previous = before[-1] if before else None
    if previous in done and rules.steps[previous].kind == "publication":
        opens = notice_ends(rules, done[previous])
        if on < opens:
            found.append(Problem("notice_period_short", previous,
                                 f"the {rules.steps[previous].name} of {done[previous].on} stays "
                                 f"public {rules.steps[previous].notice_days} days: {name} may "
                                 f"not happen before {opens}"))
    return found


def publication_problem(rules: Rules, step: str, notice_days: int) -> Problem | None:
    """A publication announced for fewer days than its notice period."""
    required = rules.steps[step].notice_days
    if notice_days < required:
        return Problem("notice_period_short", step,
                       f"the {rules.steps[step].name} is public for {notice_days} days, "
                       f"at least {required} are required")
    return None


def after_rejection(rules: Rules, procedure: Procedure, step: str) -> tuple[str, str | None]:
    """``("end", None)``, or ``("return", previous step)``: the matter goes back one step and
    both the previous step and the rejected one are done again."""
    if rules.steps[step].on_rejection == "return" and procedure.index(step) > 0:
        return "return", procedure.before(step)[-1]
    return "end", None


def status_of(rules: Rules, procedure: Procedure, done: dict[str, Done], ended: bool) -> str:
    if ended:
        return "ended"
    if step_of_kind(rules, procedure, "acceptance") in done:
        return "completed"
    if step_of_kind(rules, procedure, "execution") in done:
        return "executing"
    if rules.deciding_step(procedure) in done:
        return "resolved"
    return "deliberating"


def next_due(rules: Rules, procedure: Procedure, done: dict[str, Done],
             execution_finished_on: date | None) -> tuple[str, date] | None:
    """The next step and the day it falls due (None: nothing is due, e.g. while execution is
    under way, or the step has no due days)."""
    step = next_step(procedure, done)
    if step is None or rules.steps[step].due_days is None:
        return None
    before = [code for code in procedure.before(step) if code in done]
    if not before:
        return None
    previous = procedure.before(step)[-1]
    if previous not in done:
        start = max(done[code].on for code in before)
    elif rules.steps[previous].kind == "publication":
        start = notice_ends(rules, done[previous])
    elif rules.steps[previous].kind == "execution":
        if execution_finished_on is None:
            return None
        start = execution_finished_on
    else:
        start = done[previous].on
    return step, start + timedelta(days=rules.steps[step].due_days)
