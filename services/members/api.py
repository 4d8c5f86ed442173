"""The members service over HTTP (``shared.api``): what the gateway publishes under /api/v1."""
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
          permission="members.read", tags=("members",)),
    Route("GET", "/branches/<int:branch_id>/members", "list_members", "Members of a branch",
          query={"state": fields.String(validate=validate.OneOf(("active", "left")))},
          paged=True, permission="members.read", unit="path:branch_id", tags=("members",)),
    Route("GET", "/members/<int:member_id>/history", "member_history",
          "Transfers and status changes of a member", permission="members.read",
          tags=("members",)),
    Route("POST", "/transfers", "transfer_member", "Transfer a member to another branch",
          body=schemas.TransferInput, permission="members.write", unit="body:to_branch_id",
          status=201, tags=("members",)),
    Route("POST", "/departures", "member_leaves", "A member leaves the Party",
          body=schemas.LeaveInput, permission="members.write", status=201, tags=("members",)),
    Route("POST", "/activities", "record_activity", "Record a credit-earning activity",
          body=schemas.ActivityInput, permission="activities.write", status=201,
          tags=("activities",)),
    Route("POST", "/activities/<int:activity_id>/revocation", "revoke_activity",
          "Revoke an activity recorded in error", body=RevokeBody, body_arg=None,
          permission="activities.write", tags=("activities",)),
    Route("POST", "/branches/<int:branch_id>/activity-sheets", "import_activities",
          "Import a branch's activity sheet (CSV or XLSX, base64): all rows or none",
          body=SheetBody, body_arg=None, permission="activities.write", unit="path:branch_id",
          status=201, tags=("activities",)),
    Route("GET", "/activity-sheet-template", "activity_sheet_template",
          "The activity sheet's columns", permission="activities.write", tags=("activities",)),
)
