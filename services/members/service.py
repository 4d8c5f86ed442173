"""The members service: organisation tree, member records, member development, activities."""
import base64
import binascii
from datetime import date

from marshmallow import ValidationError
from nameko.extensions import DependencyProvider
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.members import api as http_api
from services.members import development, records, roster, schemas, sheets
from services.members.models import Activity, Base, Candidate, Member, OrgUnit, Team
from shared import config as config_module
from shared import inputs
from shared.api import Permissions
from shared.bus.store import Store
from shared.bus.requests import rpc_write
from shared.errors import Conflict, InvalidInput, NotFound
from shared.bus.refusals import rpc
from shared.service import ServiceBase

REVEAL_PERMISSION = "members.view_resident_id"


class Caller(DependencyProvider):
    """Who is calling, from the RPC context (set by the gateway from its authentication)."""

    def get_dependency(self, worker_ctx):
        return Permissions(worker_ctx.context_data.get("permissions") or ())


class Rules(DependencyProvider):
    """``config/members.yaml`` merged with the ``members:`` section of the running config."""

    def setup(self):
        defaults = config_module.load_yaml("members.yaml")
        overrides = self.container.config.get("members") or {}
        self.rules = {key: {**(defaults.get(key) or {}), **(overrides.get(key) or {})}
                      for key in ("development", "activities")}
        schemas.ACTIVITY_MAX_AGE_DAYS = int(self.rules["activities"].get("max_age_days", 366))

    def get_dependency(self, worker_ctx):
        return self.rules


MEMBER_STATES = ("active", "flowed_out", "left")


def _require_text(value, field, max_length=500):
    return inputs.text(value, field, max_length)


def _require_id(value, field):
    return inputs.positive_id(value, field)


def _date_or_today(value, field):
    return date.today() if value is None else inputs.a_date(value, field)


def _sheet_errors(refused: InvalidInput, argument: str) -> InvalidInput:
    """A sheet's ``file`` problems named after the RPC argument at fault."""
    return InvalidInput({argument if field == "file" else field: reasons
                         for field, reasons in refused.errors.items()})


def _sheet_file(filename, content_base64) -> tuple[str, bytes]:
    """(the file name, the bytes) of an uploaded sheet (a .csv or .xlsx ``filename``, the file
    as base64 text); ``InvalidInput`` naming the argument at fault."""
    filename = _require_text(filename, "filename", 255)
    try:
        sheets.format_of(filename)
    except InvalidInput as refused:
        raise _sheet_errors(refused, "filename") from None
    if not isinstance(content_base64, str):
        raise InvalidInput({"content_base64": ["must be the file as base64 text"]})
    try:
        return filename, base64.b64decode(content_base64, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise InvalidInput({"content_base64": ["is not valid base64"]}) from None


def _id_as_given(value):
    """``value`` read as the schemas read an id (``"12"`` and full-width digits included), or
    None when it is not one (the RPC then refuses it itself)."""
    try:
        return inputs.Id().deserialize(value)
    except (ValidationError, TypeError, ValueError):
        return None


def _field(payload, name):
    return _id_as_given(payload.get(name)) if isinstance(payload, dict) else None


class MembersService(ServiceBase):
    api = http_api.ROUTES
    name = "members"
    publishes = ("org_unit_created", "org_unit_changed", "member_registered", "member_transferred",
                 "member_left", "member_status_changed", "development_step_recorded",
                 "activity_recorded", "activity_revoked")
    store = Store(Base.metadata)
    caller = Caller()
    rules = Rules()

    @classmethod
    def rpc_examples(cls, cluster):
        """Valid calls for the shared input fuzz suite (``ServiceBase.rpc_examples``)."""
        from services.members.examples import rpc_examples
        return rpc_examples(cluster)

    # -- scope (shared.scope): the unit a by-id route's object belongs to -----------------------
    scope_units = OrgUnit

    def scope_parent_of(self, unit_id):
        """The parent of ``unit_id`` in the organisation tree (None at the root, for a unit
        not known, or for a value no id column holds)."""
        if _id_as_given(unit_id) != unit_id:
            return None
        with self.store.reading() as session:
            return session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == unit_id))

    def _branch_of_member(self, member_id):
        if member_id is None:
            return None
        with self.store.reading() as session:
            return session.scalar(select(Member.branch_id).where(Member.id == member_id))

    def branch_of_member(self, member_id, *_, **__):
        """The branch of member ``member_id`` (None: no such member)."""
        return self._branch_of_member(_id_as_given(member_id))

    def branch_of_payload_member(self, payload, *_, **__):
        """The branch of the member a body names (``member_id``)."""
        return self._branch_of_member(_field(payload, "member_id"))

    def units_of_activity_input(self, payload, *_, **__):
        """The branch of the activity's member, and the branch the payload names, if any."""
        units = [self._branch_of_member(_field(payload, "member_id")), _field(payload, "branch_id")]
        return [unit for unit in units if unit is not None] or None

    def units_of_transfer(self, payload, *_, **__):
        """The member's branch now and the branch they go to: both must be in scope."""
        units = [self._branch_of_member(_field(payload, "member_id")),
                 _field(payload, "to_branch_id")]
        return [unit for unit in units if unit is not None] or None

    def branch_of_activity(self, activity_id, *_, **__):
        """The branch of the member an activity belongs to (None: no such activity)."""
        activity_id = _id_as_given(activity_id)
        if activity_id is None:
            return None
        with self.store.reading() as session:
            return session.scalar(select(Member.branch_id).join(
                Activity, Activity.member_id == Member.id).where(Activity.id == activity_id))

    # -- organisation tree ---------------------------------------------------------------------
    @rpc_write
    def create_org_unit(self, payload):
        data = schemas.load(schemas.OrgUnitInput, payload)
        with self.store.transaction() as session:
            return records.unit_dict(records.create_unit(session, data))

    @rpc_write
    def rename_org_unit(self, unit_id, name):
        data = schemas.load(schemas.OrgUnitInput, {"name": name, "kind": "city_committee",
                                                   "parent_id": None})
        with self.store.transaction() as session:
            return records.unit_dict(records.rename_unit(session, _require_id(unit_id, "unit_id"),
                                                         data["name"]))

    @rpc_write
    def move_org_unit(self, unit_id, parent_id):
        with self.store.transaction() as session:
            return records.unit_dict(records.move_unit(session, _require_id(unit_id, "unit_id"),
                                                       _require_id(parent_id, "parent_id")))

    @rpc_write
    def dissolve_org_unit(self, unit_id, on=None):
        with self.store.transaction() as session:
            return records.unit_dict(records.dissolve_unit(
                session, _require_id(unit_id, "unit_id"), _date_or_today(on, "on")))

    @rpc
    def get_org_unit(self, unit_id):
        with self.store.reading() as session:
            unit = session.get(OrgUnit, _require_id(unit_id, "unit_id"))
            if unit is None:
                raise NotFound(f"org unit {unit_id} does not exist")
            return records.unit_dict(unit)

    @rpc
    def list_subtree(self, root_id, include_dissolved=False):
        root_id = _require_id(root_id, "root_id")
        include_dissolved = inputs.flag(include_dissolved, "include_dissolved")
        with self.store.reading() as session:
            return records.subtree(session, root_id, include_dissolved)

    @rpc
    def list_townships(self):
        with self.store.reading() as session:
            rows = session.scalars(select(OrgUnit).where(
                OrgUnit.kind.in_(records.TOWNSHIP_KINDS)).order_by(OrgUnit.id)).all()
            return [records.unit_dict(unit) for unit in rows]

    # -- members -------------------------------------------------------------------------------
    @rpc_write
    def register_member(self, payload):
        data = schemas.load(schemas.MemberInput, payload)
        with self.store.transaction() as session:
            member = records.register_member(session, data)
            return records.member_dict(member, REVEAL_PERMISSION in self.caller)

    @rpc
    def get_member(self, member_id):
        with self.store.reading() as session:
            member = session.get(Member, _require_id(member_id, "member_id"))
            if member is None:
                raise NotFound(f"member {member_id} does not exist")
            return records.member_dict(member, REVEAL_PERMISSION in self.caller)

    @rpc
    def list_members(self, branch_id, state="active", offset=0, limit=100):
        branch_id = _require_id(branch_id, "branch_id")
        limit = inputs.whole_number(limit, "limit", 1, 1000)
        offset = inputs.whole_number(offset, "offset", 0)
        if state is not None:
            state = inputs.choice(state, "state", MEMBER_STATES)
        with self.store.reading() as session:
            query = select(Member).where(Member.branch_id == branch_id)
            if state is not None:
                query = query.where(Member.state == state)
            rows = session.scalars(query.order_by(Member.id).offset(offset).limit(limit)).all()
            reveal = REVEAL_PERMISSION in self.caller
            return [records.member_dict(member, reveal) for member in rows]

    @rpc_write
    def transfer_member(self, payload):
        data = schemas.load(schemas.TransferInput, payload)
        with self.store.transaction() as session:
            return records.member_dict(records.transfer_member(session, data),
                                       REVEAL_PERMISSION in self.caller)

    @rpc_write
    def member_leaves(self, payload):
        data = schemas.load(schemas.LeaveInput, payload)
        with self.store.transaction() as session:
            return records.member_dict(records.member_leaves(session, data),
                                       REVEAL_PERMISSION in self.caller)

    @rpc
    def member_history(self, member_id):
        with self.store.reading() as session:
            return records.history(session, _require_id(member_id, "member_id"))

    @rpc_write
    def import_members(self, branch_id, filename, content_base64):
        """Register a branch's members from a roster sheet (CSV or XLSX, base64; columns in
        ``roster``): every row is registered, each publishing ``member_registered`` like
        ``register_member``, or none, with ``InvalidInput`` keyed ``"row N.column"`` for every
        problem (bad values, a resident ID twice in the sheet or already registered)."""
        branch_id = _require_id(branch_id, "branch_id")
        filename, content = _sheet_file(filename, content_base64)
        try:
            rows = roster.parse(content, filename)
        except InvalidInput as refused:
            raise _sheet_errors(refused, "content_base64") from None
        with self.store.transaction() as session:
            branch = records._branch(session, branch_id)
            registered = records.registered_resident_ids(session, roster.resident_ids(rows))
            people = roster.validate_rows(rows, branch_id, registered)
            try:
                ids = [member.id for member in records.add_members(session, branch, people)]
            except IntegrityError:
                raise Conflict("a member with a resident ID of this sheet was registered "
                               "meanwhile; upload the sheet again for the report") from None
            return {"imported": len(ids), "member_ids": ids}

    @rpc
    def member_sheet_template(self):
        """The roster sheet's header row, as base64 CSV (see ``import_members``)."""
        return base64.b64encode(roster.template_csv()).decode()

    # -- activities ----------------------------------------------------------------------------
    @rpc_write
    def record_activity(self, payload):
        data = schemas.load(schemas.ActivityInput, payload)
        with self.store.transaction() as session:
            return records.activity_dict(records.record_activity(session, data))

    @rpc_write
    def import_activities(self, branch_id, filename, content_base64):
        """A branch's sheet (CSV or XLSX, base64): all rows are stored, or none with a report."""
        branch_id = _require_id(branch_id, "branch_id")
        filename, content = _sheet_file(filename, content_base64)
        try:
            rows = sheets.parse(content, filename)
        except InvalidInput as refused:
            raise _sheet_errors(refused, "content_base64") from None
        with self.store.transaction() as session:
            activities = sheets.validate_rows(
                rows, records.branch_member_by_resident_id(session, branch_id))
            errors = {}
            for raw, activity in zip(rows, activities):
                member = session.get(Member, activity["member_id"])
                if member is None or member.branch_id != branch_id:
                    errors[f"row {raw.get(sheets.ROW)}.member_id"] = [
                        f"member {activity['member_id']} is not in branch {branch_id}"]
            if errors:
                raise InvalidInput(errors)
            batch = f"sheet:{filename}"[:64]
            stored, errors = [], {}
            for raw, activity in zip(rows, activities):
                try:
                    stored.append(records.record_activity(session, activity, batch=batch).id)
                except (InvalidInput, NotFound) as exc:
                    reasons = exc.errors if isinstance(exc, InvalidInput) else {"_row": [str(exc)]}
                    for field, messages in reasons.items():
                        errors[f"row {raw.get(sheets.ROW)}.{field}"] = messages
            if errors:
                raise InvalidInput(errors)
            return {"imported": len(stored), "activity_ids": stored}

    @rpc_write
    def revoke_activity(self, activity_id, reason):
        with self.store.transaction() as session:
            return records.activity_dict(records.revoke_activity(
                session, _require_id(activity_id, "activity_id"), reason))

    @rpc_write
    def correct_activity(self, activity_id, payload, reason="corrected"):
        """Revoke an activity and record its corrected version, in one transaction."""
        data = schemas.load(schemas.ActivityInput, payload)
        with self.store.transaction() as session:
            records.revoke_activity(session, _require_id(activity_id, "activity_id"), reason)
            return records.activity_dict(records.record_activity(session, data))

    @rpc
    def activity_sheet_template(self):
        return base64.b64encode(sheets.template_csv()).decode()

    # -- volunteer teams -----------------------------------------------------------------------
    @rpc_write
    def create_team(self, payload):
        data = schemas.load(schemas.TeamInput, payload)
        with self.store.transaction() as session:
            team = records.create_team(session, data)
            return {"id": team.id, "name": team.name, "branch_id": team.branch_id,
                    "township_id": team.township_id}

    @rpc_write
    def create_project(self, payload):
        data = schemas.load(schemas.ProjectInput, payload)
        with self.store.transaction() as session:
            project = records.create_project(session, data)
            return {"id": project.id, "team_id": project.team_id, "name": project.name}

    @rpc
    def list_teams(self, township_id=None):
        if township_id is not None:
            township_id = _require_id(township_id, "township_id")
        with self.store.reading() as session:
            query = select(Team).order_by(Team.id)
            if township_id is not None:
                query = query.where(Team.township_id == township_id)
            return [{"id": t.id, "name": t.name, "branch_id": t.branch_id,
                     "township_id": t.township_id} for t in session.scalars(query)]

    # -- member development --------------------------------------------------------------------
    @rpc_write
    def apply_for_membership(self, payload):
        """Open a development record: ``payload`` is the person (MemberInput fields without
        join_date/status) plus ``application_date``, ``on`` and ``by``."""
        if not isinstance(payload, dict):
            raise InvalidInput({"payload": ["must be an object (a JSON dictionary)"]})
        payload = dict(payload)
        step = schemas.load(schemas.StepInput, {"step": "application", "on": payload.pop("on", None),
                                                "by": payload.pop("by", None),
                                                "data": {"application_date":
                                                         payload.pop("application_date", None)}})
        profile = self._profile(payload, step["on"])
        # the step checked before the candidate row is inserted: a refusal leaves no gap in the ids
        development.apply([], "application", step["on"], step["by"], step["data"],
                          self.rules["development"])
        with self.store.transaction() as session:
            branch = records._branch(session, profile["branch_id"])
            if session.scalar(select(Candidate.id).where(
                    Candidate.resident_id == profile["resident_id"])) is not None:
                raise InvalidInput({"resident_id": ["already has a development record"]})
            candidate = Candidate(branch_id=branch.id, name=profile["name"],
                                  resident_id=profile["resident_id"],
                                  profile={k: (v.isoformat() if isinstance(v, date) else v)
                                           for k, v in profile.items() if k in payload},
                                  stage="applicant", created_at=records.now())
            session.add(candidate)
            session.flush()
            records.record_step(session, candidate, "application", step["on"], step["by"],
                                step["data"], self.rules["development"], self._profile)
            return records.candidate_dict(session, candidate)

    @staticmethod
    def _profile(payload, join_date=None):
        probe = {**payload, "join_date": payload.get("join_date") or
                 (join_date.isoformat() if isinstance(join_date, date) else join_date),
                 "status": payload.get("status", "probationary")}
        return schemas.load(schemas.MemberInput, probe)

    @rpc_write
    def record_development_step(self, candidate_id, payload):
        step = schemas.load(schemas.StepInput, payload)
        with self.store.transaction() as session:
            candidate = session.get(Candidate, _require_id(candidate_id, "candidate_id"))
            if candidate is None:
                raise NotFound(f"candidate {candidate_id} does not exist")
            entry = records.record_step(session, candidate, step["step"], step["on"], step["by"],
                                        step["data"], self.rules["development"],
                                        lambda data: schemas.load(schemas.MemberInput, data))
            return {"result": entry["result"], "stage": candidate.stage,
                    "member_id": candidate.member_id}

    @rpc
    def get_candidate(self, candidate_id):
        with self.store.reading() as session:
            candidate = session.get(Candidate, _require_id(candidate_id, "candidate_id"))
            if candidate is None:
                raise NotFound(f"candidate {candidate_id} does not exist")
            return records.candidate_dict(session, candidate)

    @rpc
    def list_overdue_development(self, today=None):
        today = _date_or_today(today, "today")
        with self.store.reading() as session:
            found = []
            for candidate in session.scalars(select(Candidate).order_by(Candidate.id)):
                late = development.overdue(records.step_history(session, candidate.id), today,
                                           self.rules["development"])
                if late:
                    found.append({"candidate_id": candidate.id, "name": candidate.name,
                                  "branch_id": candidate.branch_id, "stage": candidate.stage,
                                  "expected_step": late["expected_step"],
                                  "due_since": late["due_since"].isoformat()})
            return found

    # -- demo ----------------------------------------------------------------------------------
    @classmethod
    def load_demo(cls, config, seed=2017, scale=1.0, month=None):
        """Load the demo county into an empty members database; None if data already exists."""
        from shared import db
        from services.members import demo_loader
        database = db.database(config_module.database_url(config, cls.name))
        with database.transaction() as session:
            if demo_loader.already_loaded(session):
                return None
            return demo_loader.load(session, cls.store.outbox_table, seed=seed, month=month,
                                    scale=scale)
