"""Member development (发展党员) as a pure state machine over a candidate's step history.

A history is the list of entries returned by :func:`apply`, oldest first. Each entry is
``{"step", "on", "by", "data", "stage_before", "stage_after", "result"}``: ``on`` a date, ``data``
JSON-safe (dates as ISO strings), ``result`` "done", "passed" or "rejected". Entries read back from
storage may carry ``on`` as an ISO string.
"""
from datetime import date, datetime, timedelta
from fractions import Fraction

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.members.schemas import Int, Text
from shared.errors import Conflict, InvalidInput, flatten_messages

STAGES = ("applicant", "activist", "development_target", "probationary", "full")
STEPS = ("application", "recommendation", "training_record", "target_selection", "public_notice",
         "vote", "pre_review", "admission", "confirmation")
WAITS = {
    "applicant_min_days": 30,
    "activist_min_days": 365,
    "notice_min_days": 5,
    "probation_min_days": 365,
    "vote_quorum": 0.5,
    "vote_majority_of_eligible": 0.5,
    "overdue_grace_days": 90,
}
CONTROLS = {
    "application": "application (入党申请)",
    "recommendation": "recommendation (推荐制)",
    "training_record": "training (培养教育)",
    "target_selection": "recommendation (推荐制)",
    "public_notice": "public notice (公示制)",
    "vote": "vote (票决制)",
    "pre_review": "pre-review (预审制)",
    "admission": "accountability (责任追究制)",
    "confirmation": "vote (票决制)",
}
STAGE_AFTER = {
    "application": "applicant",
    "recommendation": "activist",
    "training_record": "activist",
    "target_selection": "development_target",
    "public_notice": "development_target",
    "vote": "development_target",
    "pre_review": "development_target",
    "admission": "probationary",
    "confirmation": "full",
}
# step -> (step whose date starts the wait, config key of the wait)
WAIT_FOR = {
    "recommendation": ("application", "applicant_min_days"),
    "target_selection": ("recommendation", "activist_min_days"),
    "confirmation": ("admission", "probation_min_days"),
}


class _Names(fields.List):
    def __init__(self, **kwargs):
        super().__init__(Text(validate=validate.Length(min=1, max=30, error="must be 1 to 30 characters")),
                         **kwargs)


class _Application(Schema):
    application_date = fields.Date(required=True)


class _Recommendation(Schema):
    recommended_by = fields.String(required=True, validate=validate.OneOf(
        ("group", "members"), error="must be group or members"))
    recommenders = _Names(required=True, validate=validate.Length(min=1, error="name at least one recommender"))


class _Training(Schema):
    trainer = Text(required=True, validate=validate.Length(min=1, max=100))
    content = Text(allow_none=True, load_default=None, validate=validate.Length(max=500))


class _TargetSelection(Schema):
    branch_committee_approved = fields.Boolean(required=True, validate=validate.Equal(
        True, error="the branch committee must approve the selection"))


class _Notice(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    objections = Int(required=True, validate=validate.Range(min=0, error="must be 0 or more"))
    objections_resolved = fields.Boolean(load_default=False)


class _Vote(Schema):
    eligible = Int(required=True, validate=validate.Range(min=1, error="must be at least 1"))
    present = Int(required=True, validate=validate.Range(min=0, error="must be 0 or more"))
    in_favour = Int(required=True, validate=validate.Range(min=0, error="must be 0 or more"))
    against = Int(required=True, validate=validate.Range(min=0, error="must be 0 or more"))
    abstain = Int(required=True, validate=validate.Range(min=0, error="must be 0 or more"))

    @validates_schema
    def _counts(self, data, **kwargs):
        if data["present"] > data["eligible"]:
            raise ValidationError({"present": ["cannot exceed eligible"]})
        if data["in_favour"] + data["against"] + data["abstain"] != data["present"]:
            raise ValidationError({"present": ["in_favour + against + abstain must equal present"]})


class _PreReview(Schema):
    reviewer_unit = Text(required=True, validate=validate.Length(min=1, max=100))
    approved = fields.Boolean(required=True)


class _Admission(Schema):
    introducers = _Names(required=True)

    @validates_schema
    def _two(self, data, **kwargs):
        names = data["introducers"]
        if len(names) != 2 or names[0] == names[1]:
            raise ValidationError({"introducers": ["name exactly 2 different introducers (介绍人)"]})


class _Confirmation(Schema):
    vote = fields.Nested(_Vote, required=True)
    approved = fields.Boolean(required=True)


DATA_SCHEMAS = {
    "application": _Application, "recommendation": _Recommendation, "training_record": _Training,
    "target_selection": _TargetSelection, "public_notice": _Notice, "vote": _Vote,
    "pre_review": _PreReview, "admission": _Admission, "confirmation": _Confirmation,
}


def settings(config: dict | None) -> dict:
    """``WAITS`` overridden by ``config`` (the ``development:`` section of config/members.yaml)."""
    unknown = set(config or {}) - set(WAITS)
    if unknown:
        raise ValueError(f"unknown development config keys: {', '.join(sorted(unknown))}")
    return {**WAITS, **(config or {})}


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _last(history, step, result=None):
    for entry in reversed(history):
        if entry["step"] == step and (result is None or entry["result"] == result):
            return entry
    return None


def _anchor(entry) -> date:
    if entry["step"] == "application":
        return _date(entry["data"]["application_date"])
    return _date(entry["on"])


def stage_of(history: list[dict]) -> str | None:
    """The candidate's stage after ``history`` (None before the application)."""
    return history[-1]["stage_after"] if history else None


def _since_stage(history):
    stage = stage_of(history)
    start = len(history)
    while start and history[start - 1]["stage_before"] == stage and history[start - 1]["stage_after"] == stage:
        start -= 1
    return history[start:]


def next_steps(history: list[dict]) -> list[str]:
    """Steps that may be recorded now, ignoring waiting times."""
    stage = stage_of(history)
    if stage is None:
        return ["application"]
    if stage == "applicant":
        return ["recommendation"]
    if stage == "activist":
        return ["training_record", "target_selection"]
    if stage == "development_target":
        current = _since_stage(history)
        for step in ("public_notice", "vote", "pre_review"):
            if _last(current, step, "passed") is None:
                return [step]
        return ["admission"]
    if stage == "probationary":
        return ["confirmation"]
    return []


def _required_next(history):
    steps = [s for s in next_steps(history) if s != "training_record"]
    return steps[0] if steps else None


def earliest(history: list[dict], step: str, config: dict | None = None) -> date | None:
    """First date ``step`` may be recorded after ``history``, waits included."""
    cfg = settings(config)
    dates = [_date(history[-1]["on"])] if history else []
    if step in WAIT_FOR:
        source, key = WAIT_FOR[step]
        started = _last(history, source)
        if started is not None:
            dates.append(_anchor(started) + timedelta(days=cfg[key]))
    return max(dates) if dates else None


def _vote_passes(vote, cfg):
    quorum = vote["present"] > Fraction(str(cfg["vote_quorum"])) * vote["eligible"]
    majority = vote["in_favour"] > Fraction(str(cfg["vote_majority_of_eligible"])) * vote["eligible"]
    return quorum and majority


def _jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _load_data(step, data):
    if not isinstance(data, dict):
        raise InvalidInput({"data": ["must be an object"]})
    try:
        loaded = DATA_SCHEMAS[step]().load(data)
    except ValidationError as error:
        raise InvalidInput(flatten_messages(error.messages, "data")) from None
    return loaded


def _check_data(step, data, on, history, cfg):
    errors = {}
    if step == "application" and data["application_date"] > on:
        errors["data.application_date"] = ["must not be after the step date"]
    if step == "public_notice":
        if data["end"] < data["start"]:
            errors["data.end"] = ["must not be before start"]
        elif (data["end"] - data["start"]).days + 1 < cfg["notice_min_days"]:
            errors["data.end"] = [f"the notice must last at least {cfg['notice_min_days']} calendar days "
                                  "(start and end included)"]
        if data["end"] > on:
            errors.setdefault("data.end", []).append("the notice must have ended by the step date")
        selected = _last(history, "target_selection")
        if selected is not None and data["start"] < _date(selected["on"]):
            errors["data.start"] = [f"must not be before the target selection on {_date(selected['on'])}"]
    if errors:
        raise InvalidInput(errors)


def _result(step, data, cfg):
    if step == "public_notice":
        return "passed" if data["objections"] == 0 or data["objections_resolved"] else "rejected"
    if step == "vote":
        return "passed" if _vote_passes(data, cfg) else "rejected"
    if step == "pre_review":
        return "passed" if data["approved"] else "rejected"
    if step == "confirmation":
        return "passed" if data["approved"] and _vote_passes(data["vote"], cfg) else "rejected"
    return "done"


def apply(history: list[dict], step: str, on: date, by: str, data: dict, config: dict | None) -> dict:
    """Check one development step against ``history`` and return its new history entry.

    Raises ``InvalidInput`` for a bad step name, ``by``, ``on`` or ``data`` (fields ``data.<name>``)
    and ``Conflict`` for a step out of order (naming the expected step) or too early (naming the
    earliest allowed date). A failed vote, notice with unresolved objections, refused pre-review
    or refused confirmation is recorded with result "rejected" and does not advance the stage."""
    cfg = settings(config)
    if step not in STEPS:
        raise InvalidInput({"step": [f"must be one of {', '.join(STEPS)}"]})
    if not isinstance(by, str) or not by.strip():
        raise InvalidInput({"by": ["name who is responsible for this step"]})
    if isinstance(on, str):
        try:
            on = date.fromisoformat(on)
        except ValueError:
            raise InvalidInput({"on": ["must be a date"]}) from None
    if isinstance(on, datetime):
        on = on.date()
    if not isinstance(on, date):
        raise InvalidInput({"on": ["must be a date"]})
    loaded = _load_data(step, data)          # the input is checked before the order of steps
    stage = stage_of(history)
    allowed = next_steps(history)
    if step not in allowed:
        if not allowed:
            raise Conflict(f"development is complete (stage {stage}); no further step can be recorded")
        raise Conflict(f"step {step} is out of order: the candidate is at stage {stage or 'none'}; "
                       f"expected next: {' or '.join(allowed)}")
    _check_data(step, loaded, on, history, cfg)
    if history and on < _date(history[-1]["on"]):
        last = history[-1]
        raise Conflict(f"{step} on {on.isoformat()} is before the last recorded step "
                       f"({last['step']} on {_date(last['on']).isoformat()}); "
                       f"earliest allowed date is {_date(last['on']).isoformat()}")
    if step in WAIT_FOR:
        source, key = WAIT_FOR[step]
        started = _anchor(_last(history, source))
        first = started + timedelta(days=cfg[key])
        if on < first:
            raise Conflict(f"{step} on {on.isoformat()} is too early: earliest allowed date is "
                           f"{first.isoformat()} ({cfg[key]} days after {source} on {started.isoformat()})")
    result = _result(step, loaded, cfg)
    return {
        "step": step,
        "on": on,
        "by": by.strip(),
        "data": _jsonable(loaded),
        "stage_before": stage,
        "stage_after": STAGE_AFTER[step] if result != "rejected" else stage,
        "result": result,
    }


def record(history: list[dict]) -> list[dict]:
    """The full documented record (全程纪实): every step with its control and who answers for it.

    ``responsible`` is the recorder (``by``) plus, from admission on, the two introducers."""
    introducers = []
    out = []
    for number, entry in enumerate(history, 1):
        if entry["step"] == "admission":
            introducers = list(entry["data"]["introducers"])
        out.append({
            "no": number,
            "step": entry["step"],
            "control": CONTROLS[entry["step"]],
            "on": _date(entry["on"]).isoformat(),
            "by": entry["by"],
            "responsible": [entry["by"]] + [n for n in introducers if n != entry["by"]],
            "stage_before": entry["stage_before"],
            "stage_after": entry["stage_after"],
            "result": entry["result"],
            "data": entry["data"],
        })
    return out


def overdue(history: list[dict], today: date, config: dict | None = None) -> dict | None:
    """``{"expected_step", "due_since"}`` when the next required step could have been recorded more
    than ``overdue_grace_days`` before ``today``; None otherwise (also before application and once full)."""
    cfg = settings(config)
    step = _required_next(history)
    if not history or step is None:
        return None
    due = earliest(history, step, cfg)
    if (today - due).days > cfg["overdue_grace_days"]:
        return {"expected_step": step, "due_since": due}
    return None
