"""The payloads of the events the stars service publishes about standings (contracts in
``shared/contracts/stars.py``), as plain JSON: the pipeline validates the first of each type in
a batch and publishes the others as they are."""
from __future__ import annotations

from services.stars.figures import LIVE, PERIOD_KINDS, Change
from services.stars.scoring import shown

MOST_SOURCE_EVENTS = 100


def score_changed(change: Change, cause, source_event_ids=()) -> dict:
    after, before = change.after, change.before
    live = after[LIVE]
    sources = list(source_event_ids)[-MOST_SOURCE_EVENTS:]
    return {"subject_kind": change.kind, "subject_id": change.id, "branch_id": change.branch_id,
            "township_id": change.township_id, "occurred_on": change.day.isoformat(),
            "cause": cause,
            "rulebook_version": live.version,
            "source_event_id": sources[-1] if sources else None, "source_event_ids": sources,
            **{kind: change.keys[kind] for kind in PERIOD_KINDS},
            **{f"{kind}_score": shown(after[kind].score) for kind in PERIOD_KINDS},
            **{f"{kind}_level": after[kind].level for kind in PERIOD_KINDS},
            "score": shown(live.score), "level": live.level,
            "previous_score": shown(before[LIVE].score), "previous_level": before[LIVE].level,
            "vetoed": bool(live.vetoes)}


def level_changed(change: Change) -> dict | None:
    old, new = change.live_before, change.live_after
    if old.level == new.level:
        return None
    return {"subject_kind": change.kind, "subject_id": change.id, "old_level": old.level,
            "new_level": new.level, "period": change.keys[LIVE], "score": shown(new.score),
            "vetoes": list(new.vetoes)}
