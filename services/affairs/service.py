"""The affairs service: (say in one line what it owns and decides)."""
from nameko.rpc import rpc

from services.affairs import entries, schemas
from services.affairs.models import Base
from shared.bus import Store, rpc_write, subscribe
from shared.service import ServiceBase


class AffairsService(ServiceBase):
    name = "affairs"
    publishes = ("entry_recorded",)
    store = Store(Base.metadata)

    @rpc_write
    def record_entry(self, payload):
        data = schemas.load(schemas.EntryInput, payload)
        with self.store.transaction() as session:
            return entries.record(session, data)

    @rpc
    def get_entry(self, entry_id):
        with self.store.reading() as session:
            return entries.get(session, schemas.require_id(entry_id, "entry_id"))

    @subscribe("members", "org_unit_created")
    def on_org_unit_created(self, event):
        with self.store.handling(event) as session:
            entries.learn_unit(session, event.data)
