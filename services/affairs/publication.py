"""Public records of resolutions and implementation results: written into their village's hash
chain (functions of a session), read back for the public page and its QR code, and verified."""
import base64
import json

from sqlalchemy import select

from services.affairs import chain, qr, views
from services.affairs.locking import for_update
from services.affairs.models import (Chain, Evidence, Matter, Progress, PublishedRecord,
                                     StepRecord, Unit)
from shared.errors import NotFound

def path_of(branch_id: int, seq: int) -> str:
    return f"villages/{branch_id}/records/{seq}"


def kind_of(rules, procedure, step: str) -> str:
    execution = next(c for c in procedure.steps if rules.steps[c].kind == "execution")
    return "resolution" if procedure.index(step) < procedure.index(execution) else "implementation"


def _content(session, rules, matter: Matter, unit: Unit, row: StepRecord, kind: str) -> dict:
    """What the public sees: the matter, its decision steps, the execution (for an
    implementation result) and the SHA-256 of every piece of evidence."""
    steps = session.scalars(select(StepRecord).where(
        StepRecord.matter_id == matter.id, StepRecord.superseded.is_(False),
        StepRecord.id != row.id).order_by(StepRecord.id)).all()
    evidence = session.scalars(select(Evidence).where(Evidence.matter_id == matter.id)
                               .order_by(Evidence.id)).all()
    content = {
        "village": unit.name, "matter_id": matter.id, "item": matter.item,
        "item_name": rules.items[matter.item].name, "category": matter.category,
        "procedure": matter.procedure, "title": matter.title, "description": matter.description,
        "amount": None if matter.amount is None else f"{matter.amount:.2f}",
        "kind": kind, "text": row.note, "channels": row.channels.split(",") if row.channels else [],
        "steps": [{"step": s.step, "name": rules.steps[s.step].name, "on": s.happened_on.isoformat(),
                   "outcome": s.outcome, "form": s.form, "members": s.members, "present": s.present,
                   "for": s.votes_for, "against": s.votes_against, "abstain": s.votes_abstain}
                  for s in steps],
        "evidence": [{"kind": e.kind, "name": e.name, "sha256": e.sha256} for e in evidence],
    }
    if kind == "implementation":
        content["progress"] = [views.progress_dict(p) for p in session.scalars(
            select(Progress).where(Progress.matter_id == matter.id).order_by(Progress.id))]
    return content


def _chain_of(session, branch_id: int) -> Chain:
    """The village's chain head, locked for this transaction (created on first use: the
    village's unit row is locked first, so two first publications cannot both create it)."""
    session.get(Unit, branch_id, with_for_update=for_update(session))
    head = session.get(Chain, branch_id, with_for_update=for_update(session))
    if head is None:
        head = Chain(branch_id=branch_id, length=0, head=chain.GENESIS)
        session.add(head)
        session.flush()
    return head


def publish(session, rules, matter: Matter, unit: Unit, row: StepRecord, procedure) -> tuple:
    """Append the publication ``row`` to its village's chain; returns the ``matter_published``
    event to publish."""
    kind = kind_of(rules, procedure, row.step)
    content = chain.canonical(_content(session, rules, matter, unit, row, kind))
    head = _chain_of(session, matter.branch_id)
    seq = head.length + 1
    fields = {"branch_id": matter.branch_id, "seq": seq, "matter_id": matter.id, "kind": kind,
              "published_on": row.happened_on, "notice_days": row.notice_days,
              "path": path_of(matter.branch_id, seq), "content": content}
    record = PublishedRecord(**fields, step_id=row.id, prev_hash=head.head,
                             record_hash=chain.record_hash(fields, head.head))
    session.add(record)
    head.length, head.head = seq, record.record_hash
    session.flush()
    return "matter_published", views.published_event(matter, unit, record,
                                                      rules.public_url(record.path))


def _record(session, branch_id: int, seq: int) -> PublishedRecord:
    found = session.scalar(select(PublishedRecord).where(PublishedRecord.branch_id == branch_id,
                                                         PublishedRecord.seq == seq))
    if found is None:
        raise NotFound(f"village {branch_id} has no public record {seq}")
    return found


def public_record(session, rules, branch_id: int, seq: int) -> dict:
    record = _record(session, branch_id, seq)
    return {**views.record_dict(record, rules.public_url(record.path)),
            "content": json.loads(record.content)}


def qr_code(session, rules, branch_id: int, seq: int, image_format: str) -> dict:
    record = _record(session, branch_id, seq)
    url = rules.public_url(record.path)
    content_type, data = qr.image(url, image_format)
    return {"branch_id": branch_id, "seq": seq, "url": url, "format": image_format,
            "content_type": content_type, "data_base64": base64.b64encode(data).decode("ascii")}


def records_of(session, matter_id: int) -> list[PublishedRecord]:
    return session.scalars(select(PublishedRecord).where(PublishedRecord.matter_id == matter_id)
                           .order_by(PublishedRecord.id)).all()


def verify(session, branch_id: int) -> dict:
    """Whether the village's chain holds, and where it breaks."""
    if session.get(Unit, branch_id) is None:
        raise NotFound(f"org unit {branch_id} is not known to affairs")
    head = session.get(Chain, branch_id)
    rows = [dict(r._mapping) for r in session.execute(
        select(*[getattr(PublishedRecord, name) for name in chain.HASHED],
               PublishedRecord.prev_hash, PublishedRecord.record_hash)
        .where(PublishedRecord.branch_id == branch_id).order_by(PublishedRecord.seq))]
    verdict = chain.verify(rows, head.length if head else 0, head.head if head else chain.GENESIS)
    return {"branch_id": branch_id, **verdict.as_dict()}

