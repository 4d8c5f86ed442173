"""The order of the procedure (pure): what a step out of place violates, statuses, due days."""
from datetime import date, timedelta

from services.affairs import powerlist, procedure
from services.affairs.procedure import Done

RULES = powerlist.settings({})
FULL = RULES.procedures["full"]
DAY = date(2026, 3, 1)


def done(*steps, start=DAY, gap=5):
    return {step: Done(step, start + timedelta(days=gap * n)) for n, step in enumerate(steps)}


def kinds(found):
    return [(p.kind, p.step) for p in found]


def test_the_next_step_in_order_has_no_problem():
    recorded = done("proposal", "joint_meeting")
    assert procedure.next_step(FULL, recorded) == "party_assembly"
    assert procedure.problems(RULES, FULL, recorded, "party_assembly", DAY + timedelta(days=5)) == []


def test_skipped_steps_are_each_named():
    found = procedure.problems(RULES, FULL, done("proposal"), "villagers_assembly", DAY)
    assert kinds(found) == [("step_skipped", "joint_meeting"), ("step_skipped", "party_assembly")]


def test_execution_without_a_published_resolution():
    recorded = done("proposal", "joint_meeting", "party_assembly", "villagers_assembly")
    found = procedure.problems(RULES, FULL, recorded, "execution", DAY + timedelta(days=30))
    assert kinds(found) == [("execution_before_resolution", "resolution_published")]


def test_a_step_dated_before_the_step_it_follows():
    found = procedure.problems(RULES, FULL, done("proposal", "joint_meeting"), "party_assembly",
                               DAY + timedelta(days=4))
    assert kinds(found) == [("out_of_order", "party_assembly")]


def test_the_notice_period_runs_before_the_next_step():
    recorded = done("proposal", "joint_meeting", "party_assembly", "villagers_assembly",
                    "resolution_published")
    published = recorded["resolution_published"].on
    too_soon = procedure.problems(RULES, FULL, recorded, "execution", published + timedelta(days=6))
    assert kinds(too_soon) == [("notice_period_short", "resolution_published")]
    assert procedure.problems(RULES, FULL, recorded, "execution", published + timedelta(days=7)) == []
    assert procedure.publication_problem(RULES, "resolution_published", 6).kind == "notice_period_short"
    assert procedure.publication_problem(RULES, "resolution_published", 7) is None


def test_a_rejection_ends_or_returns_as_configured():
    assert procedure.after_rejection(RULES, FULL, "joint_meeting") == ("end", None)
    assert procedure.after_rejection(RULES, FULL, "party_assembly") == ("return", "joint_meeting")
    assert procedure.after_rejection(RULES, RULES.procedures["party"], "party_assembly") == (
        "return", "proposal")


def test_statuses_follow_the_steps_that_count():
    assert procedure.status_of(RULES, FULL, done("proposal"), False) == "deliberating"
    resolved = done("proposal", "joint_meeting", "party_assembly", "villagers_assembly")
    assert procedure.status_of(RULES, FULL, resolved, False) == "resolved"
    assert procedure.status_of(RULES, FULL, {**resolved, **done("execution")}, False) == "executing"
    assert procedure.status_of(RULES, FULL, done(*FULL.steps), False) == "completed"
    assert procedure.status_of(RULES, FULL, resolved, True) == "ended"


def test_due_days_count_from_the_step_before_its_notice_or_the_end_of_execution():
    recorded = done("proposal")
    assert procedure.next_due(RULES, FULL, recorded, None) == ("joint_meeting", DAY + timedelta(days=30))
    published = done(*FULL.steps[:5])
    opens = published["resolution_published"].on + timedelta(days=7)
    assert procedure.next_due(RULES, FULL, published, None) == ("execution", opens + timedelta(days=60))
    executing = done(*FULL.steps[:6])
    assert procedure.next_due(RULES, FULL, executing, None) is None
    finished = DAY + timedelta(days=90)
    assert procedure.next_due(RULES, FULL, executing, finished) == (
        "implementation_published", finished + timedelta(days=15))
    assert procedure.next_due(RULES, FULL, done(*FULL.steps), None) is None
