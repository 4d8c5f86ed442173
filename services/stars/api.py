"""The stars service over HTTP (``shared.api``): boards are public, the rest needs a login.

A subject's score, explanation and rank belong to its unit (``owner="unit_of_subject"``: a
member's branch, the branch, the township committee), so a village cadre reads its own village's.
The award-priority and unqualified-review lists name members across the county: they need
``stars.report`` (county administrators and auditors)."""
from marshmallow import fields, validate

from shared.api import Route
from shared.validation import body_schema

SUBJECT = "<any(member, branch, committee):subject_kind>"
REPORT = "stars.report"
PERIOD = {"period": fields.String(required=True, validate=validate.Length(4, 7),
                                  metadata={"example": "2026-11"})}
CloseBody = body_schema("CloseBody", period=PERIOD["period"], early=fields.Boolean())
CloseYearBody = body_schema("CloseYearBody", year=fields.Integer(required=True, strict=True),
                            early=fields.Boolean())
SanctionBody = body_schema(
    "SanctionBody", member_id=fields.Integer(required=True, strict=True),
    item=fields.String(required=True, validate=validate.Length(1, 64)),
    decided_on=fields.Date(required=True),
    reason=fields.String(required=True, validate=validate.Length(1, 500)))
RescoreBody = body_schema("RescoreBody", period=PERIOD["period"],
                          reason=fields.String(required=True, validate=validate.Length(1, 500)))

ROUTES = (
    Route("GET", f"/stars/{SUBJECT}/<int:subject_id>/score", "score",
          "A subject's score and star level in a period", query=PERIOD,
          permission="stars.read", owner="unit_of_subject", tags=("stars",)),
    Route("GET", f"/stars/{SUBJECT}/<int:subject_id>/explanation", "explain",
          "Every scored event behind a score", query={**PERIOD, "limit": fields.Integer()},
          permission="stars.read", owner="unit_of_subject", tags=("stars",)),
    Route("GET", f"/stars/{SUBJECT}/<int:subject_id>/rank", "rank_of",
          "A subject's place in the county and its township or branch",
          query={**PERIOD, "scope_kind": fields.String(validate=validate.OneOf(
              ("county", "township", "branch")))}, permission="stars.read",
          owner="unit_of_subject", tags=("stars",)),
    Route("GET", f"/boards/{SUBJECT}", "top", "Ranking board (public)",
          query={**PERIOD, "scope_kind": fields.String(required=True, validate=validate.OneOf(
              ("county", "township", "branch"))),
              "scope_id": fields.Integer(load_default=None, allow_none=True),
              "n": fields.Integer(validate=validate.Range(1, 500))},
          permission=None, tags=("boards",)),
    Route("GET", f"/boards/{SUBJECT}/distribution", "distribution",
          "How many subjects hold each star level (public)", query=PERIOD, permission=None,
          tags=("boards",)),
    Route("POST", "/stars/closings/month", "close_month", "Close a month", body=CloseBody,
          body_arg=None, caller_arg="closed_by", permission="stars.close", tags=("stars",)),
    Route("POST", "/stars/closings/quarter", "close_quarter", "Close a quarter",
          body=CloseBody, body_arg=None, caller_arg="closed_by", permission="stars.close",
          tags=("stars",)),
    Route("POST", "/stars/closings/year", "close_year", "Close a year", body=CloseYearBody,
          body_arg=None, caller_arg="closed_by", permission="stars.close", tags=("stars",)),
    Route("POST", "/stars/sanctions", "record_sanction",
          "Record a veto or deduction item against a member", body=SanctionBody, body_arg=None,
          caller_arg="recorded_by", permission="stars.sanction", status=201, tags=("stars",)),
    Route("POST", "/stars/rescorings", "rescore", "Score a period again under its rulebook",
          body=RescoreBody, body_arg=None, caller_arg="operator", permission="stars.close",
          tags=("stars",)),
    Route("GET", "/stars/award-priority", "award_priority",
          "Members with priority for awards in a quarter or year (county-wide)", query=PERIOD,
          permission=REPORT, tags=("stars",)),
    Route("GET", "/stars/unqualified-review", "unqualified_review",
          "Members for the unqualified-member review (county-wide)", query=PERIOD,
          permission=REPORT, tags=("stars",)),
)
