"""The members service over HTTP (``shared.api``): what the gateway publishes under /api/v1.

Scope: a route on one unit names it (``unit=``); a route on one member or activity names the
service method that finds its branch (``owner=``, in ``service``), so a township's staff or a
village's cadre acts only on the members inside their unit. Sheets travel as JSON
(``filename`` + ``content_base64``): the activity sheet (``import_activities``) and the member
roster (``import_members``, columns in ``roster``), each stored whole or refused whole with
``InvalidInput`` keyed ``"row N.column"``; the templates give each sheet's header row.
"""
from marshmallow import fields, validate

from services.members import schemas
from shared.api import Route
from shared.validation import body_schema

RenameBody = body_schema("RenameBody", name=fields.String(required=True,
                                                          validate=validate.Length(1, 100)))
MoveBody = body_schema("MoveBody", parent_id=fields.Integer(required=True, strict=True))
DissolveBody = body_schema("DissolveBody", on=fields.Date(load_default=None))
SheetBody = body_schema("SheetBody", filename=fields.String(required=True,
                                                           validate=validate.Length(1, 200)),
                        content_base64=fields.String(required=True))
RevokeBody = body_schema("RevokeBody", reason=fields.String(required=True,
                                                           validate=validate.Length(1, 500)))

SHEET_SECONDS = 60          # a 5,000-row sheet takes seconds, more than an RPC timeout allows
ROUTES = (
    Route("GET", "/townships", "list_townships", "Township committees of the county",
          permission="org.read", tags=("organisation",)),
    Route("POST", "/org-units", "create_org_unit", "Add a committee or branch",
          body=schemas.OrgUnitInput, permission="org.write", unit="body:parent_id", status=201,
          tags=("organisation",)),
    Route("GET", "/org-units/<int:unit_id>", "get_org_unit", "One organisation unit",
          permission="org.read", unit="path:unit_id", tags=("organisation",)),
    Route("GET", "/org-units/<int:root_id>/subtree", "list_subtree",
          "A unit and everything under it", query={"include_dissolved": fields.Boolean()},
          permission="org.read", unit="path:root_id", tags=("organisation",)),
    Route("PATCH", "/org-units/<int:unit_id>/name", "rename_org_unit", "Rename a unit",
          body=RenameBody, body_arg=None, permission="org.write", unit="path:unit_id",
          tags=("organisation",)),
    Route("POST", "/org-units/<int:unit_id>/move", "move_org_unit", "Move a unit",
          body=MoveBody, body_arg=None, permission="org.write", unit="path:unit_id",
          tags=("organisation",)),
    Route("POST", "/org-units/<int:unit_id>/dissolution", "dissolve_org_unit",
          "Dissolve a unit", body=DissolveBody, body_arg=None, permission="org.write",
          unit="path:unit_id", tags=("organisation",)),
    Route("POST", "/members", "register_member", "Register a member", body=schemas.MemberInput,
          permission="members.write", unit="body:branch_id", status=201, tags=("members",)),
    Route("GET", "/members/<int:member_id>", "get_member", "One member",
          permission="members.read", owner="branch_of_member", tags=("members",)),
    Route("POST", "/branches/<int:branch_id>/member-sheets", "import_members",
          "Register a branch's members from a roster sheet (CSV or XLSX, base64, at most 5000 "
          "rows): all rows or none, with every bad row's column and reason",
          body=SheetBody, body_arg=None, permission="members.write", unit="path:branch_id",
          status=201, tags=("members",), timeout_seconds=SHEET_SECONDS),
    Route("GET", "/member-sheet-template", "member_sheet_template",
          "The roster sheet's columns (base64 CSV)", permission="members.write",
          tags=("members",)),
    Route("GET", "/branches/<int:branch_id>/members", "list_members", "Members of a branch",
          query={"state": fields.String(validate=validate.OneOf(("active", "left")))},
          paged=True, permission="members.read", unit="path:branch_id", tags=("members",)),
    Route("GET", "/members/<int:member_id>/history", "member_history",
          "Transfers and status changes of a member", permission="members.read",
          owner="branch_of_member", tags=("members",)),
    Route("POST", "/transfers", "transfer_member", "Transfer a member to another branch",
          body=schemas.TransferInput, permission="members.write", owner="units_of_transfer",
          status=201, tags=("members",)),
    Route("POST", "/departures", "member_leaves", "A member leaves the Party",
          body=schemas.LeaveInput, permission="members.write", owner="branch_of_payload_member",
          status=201, tags=("members",)),
    Route("POST", "/activities", "record_activity", "Record a credit-earning activity",
          body=schemas.ActivityInput, permission="activities.write",
          owner="units_of_activity_input", status=201, tags=("activities",)),
    Route("POST", "/activities/<int:activity_id>/revocation", "revoke_activity",
          "Revoke an activity recorded in error", body=RevokeBody, body_arg=None,
          permission="activities.write", owner="branch_of_activity", tags=("activities",)),
    Route("POST", "/branches/<int:branch_id>/activity-sheets", "import_activities",
          "Import a branch's activity sheet (CSV or XLSX, base64): all rows or none",
          body=SheetBody, body_arg=None, permission="activities.write", unit="path:branch_id",
          status=201, tags=("activities",), timeout_seconds=SHEET_SECONDS),
    Route("GET", "/activity-sheet-template", "activity_sheet_template",
          "The activity sheet's columns", permission="activities.write", tags=("activities",)),
)
