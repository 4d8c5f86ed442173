"""Evidence of a matter (functions of a session): files stored under the evidence folder by their
SHA-256, or references to files kept elsewhere with the SHA-256 their holder gave."""
import base64
import binascii

from sqlalchemy import select

from services.affairs import evidence as files
from services.affairs import views
from services.affairs.models import Evidence, StepRecord
from shared.bus.outbox import now
from shared.errors import InvalidInput, NotFound


def _content(rules, given: dict, field: str) -> bytes:
    try:
        content = base64.b64decode(given["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput({f"{field}.content_base64": ["is not base64"]}) from None
    if not content:
        raise InvalidInput({f"{field}.content_base64": ["the file is empty"]})
    if len(content) > rules.evidence_max_bytes:
        raise InvalidInput({f"{field}.content_base64": [
            f"the file has {len(content)} bytes, at most {rules.evidence_max_bytes} are accepted"]})
    return content


def check(rules, items: list[dict], field: str = "evidence") -> list[tuple[dict, bytes | None]]:
    """Each evidence input with its decoded content (None for a reference); refuses unknown
    kinds, bad base64, oversize files and a given SHA-256 that does not match the content."""
    checked = []
    for position, given in enumerate(items):
        where = f"{field}.{position}" if field == "evidence" else field
        if given["kind"] not in rules.evidence_kinds:
            raise InvalidInput({f"{where}.kind": [f"must be one of {', '.join(rules.evidence_kinds)}"]})
        content = None
        if given.get("content_base64") is not None:
            content = _content(rules, given, where)
            if given.get("sha256") and given["sha256"].lower() != files.sha256_hex(content):
                raise InvalidInput({f"{where}.sha256": ["does not match the file's content"]})
        checked.append((given, content))
    return checked


def add(session, rules, matter_id: int, checked, step_id: int | None) -> list[Evidence]:
    """Store checked evidence for a matter (and the step it documents)."""
    rows = []
    if not checked:
        return rows
    for given, content in checked:
        digest, stored, size = (given.get("sha256") or "").lower(), None, None
        if content is not None:
            digest, stored = files.store(rules.evidence_folder, content)
            size = len(content)
        row = Evidence(matter_id=matter_id, step_id=step_id, kind=given["kind"], name=given["name"],
                       sha256=digest, size=size, media_type=given.get("media_type"),
                       stored_path=stored, reference=given.get("reference"), created_at=now())
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def step_for(session, matter_id: int, step: str | None, field: str = "step") -> int | None:
    """The id of the matter's current (not superseded) record of ``step``."""
    if step is None:
        return None
    found = session.scalar(select(StepRecord.id).where(
        StepRecord.matter_id == matter_id, StepRecord.step == step,
        StepRecord.superseded.is_(False)).order_by(StepRecord.id.desc()).limit(1))
    if found is None:
        raise InvalidInput({field: [f"matter {matter_id} has no recorded {step} step"]})
    return found


def get(session, rules, evidence_id: int, include_content: bool) -> dict:
    """The evidence's record; for a stored file whether it still matches its hash (``intact``)
    and, when asked, its content."""
    row = session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    found = views.evidence_dict(row)
    if row.stored_path is not None:
        content = files.read(rules.evidence_folder, row.stored_path)
        found["intact"] = content is not None and files.sha256_hex(content) == row.sha256
        if include_content and content is not None:
            found["content_base64"] = base64.b64encode(content).decode("ascii")
    return found
