"""A village's published records as a hash chain (pure).

Record n's hash is the SHA-256 of the canonical JSON of its fields (``HASHED``) and record
n-1's hash (``GENESIS`` for the first). Changing any field of any record, removing or
reordering records, changes a hash that a later record (or the stored chain head, and every
``matter_published`` event already sent out) still holds, so ``verify`` finds the first record
where the chain breaks."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64
HASHED = ("branch_id", "seq", "matter_id", "kind", "published_on", "notice_days", "path",
          "content")


def canonical(value) -> str:
    """One text for one value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_hash(record: dict, prev_hash: str) -> str:
    fields = {name: record[name] for name in HASHED}
    fields["published_on"] = str(fields["published_on"])
    return hashlib.sha256(canonical({"record": fields, "prev": prev_hash}).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verdict:
    holds: bool
    records: int
    head: str
    broken_at: int | None = None     # the chain position (1-based) of the first bad record
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"holds": self.holds, "records": self.records, "head": self.head,
                "broken_at": self.broken_at, "reason": self.reason}


def verify(rows: list[dict], length: int, head: str) -> Verdict:
    """Check ``rows`` (each with ``HASHED``, ``prev_hash`` and ``record_hash``, ordered by
    ``seq``) against each other and against the stored chain ``length`` and ``head``."""
    previous = GENESIS
    for position, row in enumerate(rows, start=1):
        if row["seq"] != position:
            return Verdict(False, len(rows), head, position,
                           f"record {position} is missing (the next stored record is {row['seq']})")
        if row["prev_hash"] != previous:
            return Verdict(False, len(rows), head, position,
                           f"record {position} does not link to record {position - 1}")
        if record_hash(row, row["prev_hash"]) != row["record_hash"]:
            return Verdict(False, len(rows), head, position,
                           f"record {position} was changed after it was published: its fields "
                           f"no longer give its hash")
        previous = row["record_hash"]
    if len(rows) != length:
        return Verdict(False, len(rows), head, min(len(rows), length) + 1,
                       f"the chain holds {length} records but {len(rows)} are stored")
    if previous != head:
        return Verdict(False, len(rows), head, len(rows) or None,
                       "the last record does not match the chain head")
    return Verdict(True, len(rows), head)
