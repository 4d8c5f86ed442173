"""The affairs service: village major matters under 四议两公开一执行一监督 (the power list, each
matter's procedure, execution, supervision, publication with a hash chain per village)."""
from datetime import date

from nameko.extensions import DependencyProvider

from services.affairs import (attachments, matters, owners, powerlist, publication, reports,
                              schemas, scoping, supervision)
from services.affairs import api as http_api
from services.affairs.models import Base, Unit
from shared import inputs
from shared.bus import Store, rpc_write, subscribe
from shared.bus.refusals import rpc
from shared.errors import Forbidden
from shared.service import ServiceBase


class Settings(DependencyProvider):
    """``config/affairs.yaml`` under the running config's ``affairs:`` section, checked once."""

    def setup(self):
        self.rules = powerlist.settings(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.rules


class AffairsService(ServiceBase):
    name = "affairs"
    publishes = ("matter_proposed", "matter_step_recorded", "matter_resolved", "matter_published",
                 "matter_completed", "procedure_violation_detected")
    store = Store(Base.metadata)
    rules = Settings()
    api = http_api.ROUTES
    scope_units = Unit      # the units learned from members (a branch's parent: its township)

    @classmethod
    def rpc_examples(cls, cluster):
        """Valid calls for the shared input fuzz suite (``ServiceBase.rpc_examples``)."""
        from services.affairs.examples import rpc_examples
        return rpc_examples(cluster)

    # -- the power list --------------------------------------------------------------------------
    @rpc
    def power_list(self):
        return powerlist.as_dict(self.rules)

    # -- whose is it (the routes' owners, ``shared.scope``) -------------------------------------
    def branch_of_matter(self, matter_id, *_rest, **_named):
        """The branch matter ``matter_id`` belongs to; None when there is no such matter."""
        matter_id = inputs.positive_id(matter_id, "matter_id")
        with self.store.reading() as session:
            return owners.branch_of_matter(session, matter_id)

    def branch_of_evidence(self, evidence_id, *_rest, **_named):
        """The branch of the matter evidence ``evidence_id`` documents; None when there is none."""
        evidence_id = inputs.positive_id(evidence_id, "evidence_id")
        with self.store.reading() as session:
            return owners.branch_of_evidence(session, evidence_id)

    def branch_of_objection(self, objection_id, *_rest, **_named):
        """The branch of the matter objection ``objection_id`` is about; None when there is none."""
        objection_id = inputs.positive_id(objection_id, "objection_id")
        with self.store.reading() as session:
            return owners.branch_of_objection(session, objection_id)

    def units_listed(self, filters=None, branch_id=None, township_id=None, *_rest, **_named):
        """The units a list or report covers: the ``branch_id`` / ``township_id`` it names, else
        a scoped caller's own unit (to which the RPC then confines it)."""
        given = scoping.merged(filters, branch_id=branch_id, township_id=township_id)
        return scoping.units_covered(given, self.scope_context())

    # -- matters and their procedure ---------------------------------------------------------------
    @rpc_write
    def propose_matter(self, payload, recorded_by=None):
        """``recorded_by`` (the gateway's login) replaces the payload's own."""
        payload = scoping.signed(payload, "recorded_by", recorded_by)
        data = schemas.load(schemas.ProposeInput, payload)
        with self.store.transaction() as session:
            return matters.propose(session, self.rules, data)

    @rpc_write
    def record_step(self, matter_id, payload, recorded_by=None):
        """Any step; from the gateway, the acceptance only for ``affairs.supervise``."""
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.StepInput, scoping.signed(payload, "recorded_by", recorded_by))
        rule = self.rules.steps.get(data["step"])
        refused = scoping.acceptance_refusal(self.scope_context(), rule and rule.kind)
        if refused:
            raise Forbidden(refused)
        with self.store.transaction() as session:
            return matters.record_step(session, self.rules, matter_id, data)

    @rpc_write
    def accept_matter(self, matter_id, payload, recorded_by=None):
        """The supervision committee's final acceptance (the procedure's acceptance step)."""
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.AcceptanceInput,
                            scoping.signed(payload, "recorded_by", recorded_by))
        with self.store.transaction() as session:
            return matters.accept(session, self.rules, matter_id, data)

    @rpc_write
    def record_progress(self, matter_id, payload, recorded_by=None):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.ProgressInput,
                            scoping.signed(payload, "recorded_by", recorded_by))
        with self.store.transaction() as session:
            return matters.record_progress(session, self.rules, matter_id, data)

    @rpc_write
    def attach_evidence(self, matter_id, payload):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.EvidenceInput, payload)
        with self.store.transaction() as session:
            return matters.attach(session, self.rules, matter_id, data)

    @rpc
    def get_matter(self, matter_id):
        with self.store.reading() as session:
            return matters.get(session, self.rules, inputs.positive_id(matter_id, "matter_id"))

    @rpc
    def list_matters(self, filters=None):
        """``{"total", "matters"}`` for calls from inside (the public pages)."""
        data = schemas.load(schemas.MatterFilter, {} if filters is None else filters,
                            field="filters")
        with self.store.reading() as session:
            return matters.listing(session, data)

    @rpc
    def find_matters(self, branch_id=None, township_id=None, status=None, item=None, year=None,
                     offset=0, limit=50):
        """One page of matter summaries (``GET /affairs/matters``); a scoped caller naming no
        unit gets its own unit's."""
        given = scoping.merged(None, branch_id=branch_id, township_id=township_id,
                               status=status, item=item, year=year, offset=offset, limit=limit)
        data = schemas.load(schemas.MatterFilter, given)
        with self.store.reading() as session:
            return matters.page(session, scoping.confined(data, self.scope_context()))

    @rpc
    def get_evidence(self, evidence_id, include_content=False):
        evidence_id = inputs.positive_id(evidence_id, "evidence_id")
        include_content = inputs.flag(include_content, "include_content")
        with self.store.reading() as session:
            return attachments.get(session, self.rules, evidence_id, include_content)

    # -- supervision -------------------------------------------------------------------------------
    @rpc_write
    def sign_off(self, matter_id, payload, signed_by=None):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.SignOffInput, scoping.signed(payload, "signed_by", signed_by))
        with self.store.transaction() as session:
            return supervision.sign_off(session, self.rules, matter_id, data)

    @rpc_write
    def raise_objection(self, matter_id, payload, raised_by=None):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.ObjectionInput,
                            scoping.signed(payload, "raised_by", raised_by))
        with self.store.transaction() as session:
            return supervision.raise_objection(session, self.rules, matter_id, data)

    @rpc_write
    def answer_objection(self, objection_id, payload, answered_by=None):
        objection_id = inputs.positive_id(objection_id, "objection_id")
        data = schemas.load(schemas.AnswerInput,
                            scoping.signed(payload, "answered_by", answered_by))
        with self.store.transaction() as session:
            return supervision.answer_objection(session, objection_id, data)

    # -- publication -------------------------------------------------------------------------------
    @rpc
    def public_record(self, branch_id, seq):
        branch_id, seq = inputs.positive_id(branch_id, "branch_id"), inputs.positive_id(seq, "seq")
        with self.store.reading() as session:
            return publication.public_record(session, self.rules, branch_id, seq)

    @rpc
    def qr_code(self, branch_id, seq, image_format="png"):
        branch_id, seq = inputs.positive_id(branch_id, "branch_id"), inputs.positive_id(seq, "seq")
        image_format = inputs.choice(image_format, "image_format", ("png", "svg"))
        with self.store.reading() as session:
            return publication.qr_code(session, self.rules, branch_id, seq, image_format)

    @rpc
    def verify_chain(self, branch_id):
        with self.store.reading() as session:
            return publication.verify(session, inputs.positive_id(branch_id, "branch_id"))

    # -- reports -----------------------------------------------------------------------------------
    # Reports take their filters as one dict (calls from inside) or as keyword arguments (the
    # gateway's query string), the keyword arguments winning; see ``scoping``.
    @rpc
    def counts(self, filters=None, level=None, township_id=None, year=None):
        data = self._filters(schemas.CountsFilter, filters, level=level,
                             township_id=township_id, year=year)
        with self.store.reading() as session:
            return reports.counts(session, self.rules, data)

    @rpc
    def overdue(self, filters=None, as_of=None, township_id=None, branch_id=None, limit=None):
        data = self._filters(schemas.OverdueFilter, filters, as_of=as_of,
                             township_id=township_id, branch_id=branch_id, limit=limit)
        with self.store.reading() as session:
            return reports.overdue(session, self.rules, data, date.today())

    @rpc
    def list_violations(self, filters=None, township_id=None, branch_id=None, year=None,
                        limit=None):
        data = self._filters(schemas.ViolationFilter, filters, township_id=township_id,
                             branch_id=branch_id, year=year, limit=limit)
        with self.store.reading() as session:
            return reports.violations(session, data)

    def _filters(self, schema, filters, **named) -> dict:
        data = schemas.load(schema, scoping.merged(filters, **named), field="filters")
        return scoping.confined(data, self.scope_context())

    # -- what members tells us ---------------------------------------------------------------------
    @subscribe("members", "org_unit_created")
    def on_org_unit_created(self, event):
        with self.store.handling(event) as session:
            matters.learn_unit(session, event.data)

    @subscribe("members", "org_unit_changed")
    def on_org_unit_changed(self, event):
        with self.store.handling(event) as session:
            matters.learn_unit(session, event.data, dissolved=event.data["dissolved"])

    # -- demo --------------------------------------------------------------------------------------
    @staticmethod
    def load_demo_live(config, cluster, scale=1.0):
        from services.affairs import demo_loader
        return demo_loader.load_live(config, cluster, scale)
