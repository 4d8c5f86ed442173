"""The affairs service: village major matters under 四议两公开一执行一监督 (the power list, each
matter's procedure, execution, supervision, publication with a hash chain per village)."""
from datetime import date

from nameko.extensions import DependencyProvider

from services.affairs import (attachments, matters, powerlist, publication, reports, schemas,
                              supervision)
from services.affairs.models import Base
from shared import inputs
from shared.bus import Store, rpc_write, subscribe
from shared.bus.refusals import rpc
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

    @classmethod
    def rpc_examples(cls, cluster):
        """Valid calls for the shared input fuzz suite (``ServiceBase.rpc_examples``)."""
        from services.affairs.examples import rpc_examples
        return rpc_examples(cluster)

    # -- the power list --------------------------------------------------------------------------
    @rpc
    def power_list(self):
        return powerlist.as_dict(self.rules)

    # -- matters and their procedure ---------------------------------------------------------------
    @rpc_write
    def propose_matter(self, payload):
        data = schemas.load(schemas.ProposeInput, payload)
        with self.store.transaction() as session:
            return matters.propose(session, self.rules, data)

    @rpc_write
    def record_step(self, matter_id, payload):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.StepInput, payload)
        with self.store.transaction() as session:
            return matters.record_step(session, self.rules, matter_id, data)

    @rpc_write
    def record_progress(self, matter_id, payload):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.ProgressInput, payload)
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
        data = schemas.load(schemas.MatterFilter, {} if filters is None else filters,
                            field="filters")
        with self.store.reading() as session:
            return matters.listing(session, data)

    @rpc
    def get_evidence(self, evidence_id, include_content=False):
        evidence_id = inputs.positive_id(evidence_id, "evidence_id")
        include_content = inputs.flag(include_content, "include_content")
        with self.store.reading() as session:
            return attachments.get(session, self.rules, evidence_id, include_content)

    # -- supervision -------------------------------------------------------------------------------
    @rpc_write
    def sign_off(self, matter_id, payload):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.SignOffInput, payload)
        with self.store.transaction() as session:
            return supervision.sign_off(session, self.rules, matter_id, data)

    @rpc_write
    def raise_objection(self, matter_id, payload):
        matter_id = inputs.positive_id(matter_id, "matter_id")
        data = schemas.load(schemas.ObjectionInput, payload)
        with self.store.transaction() as session:
            return supervision.raise_objection(session, self.rules, matter_id, data)

    @rpc_write
    def answer_objection(self, objection_id, payload):
        objection_id = inputs.positive_id(objection_id, "objection_id")
        data = schemas.load(schemas.AnswerInput, payload)
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
    @rpc
    def counts(self, filters=None):
        data = schemas.load(schemas.CountsFilter, {} if filters is None else filters,
                            field="filters")
        with self.store.reading() as session:
            return reports.counts(session, self.rules, data)

    @rpc
    def overdue(self, filters=None):
        data = schemas.load(schemas.OverdueFilter, {} if filters is None else filters,
                            field="filters")
        with self.store.reading() as session:
            return reports.overdue(session, self.rules, data, date.today())

    @rpc
    def list_violations(self, filters=None):
        data = schemas.load(schemas.ViolationFilter, {} if filters is None else filters,
                            field="filters")
        with self.store.reading() as session:
            return reports.violations(session, data)

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
