"""Quorum and majority of a meeting, by the configured rule of its form (pure).

``assess(meeting, members, present, votes_for)`` says whether the meeting was quorate and whether
it adopted the motion, with the reason in words. ``count_problems`` checks that the figures agree
with each other (present <= members, votes cast <= present)."""
from __future__ import annotations

from dataclasses import dataclass

from services.affairs.powerlist import Meeting


@dataclass(frozen=True)
class MeetingResult:
    quorate: bool
    majority: bool       # the votes for reached the majority (whether or not there was a quorum)
    adopted: bool        # quorate and majority
    quorum_needed: int
    votes_needed: int
    reason: str          # why there is no quorum, or why the motion failed or passed


def assess(meeting: Meeting, members: int, present: int, votes_for: int) -> MeetingResult:
    quorum_needed = meeting.quorum.needed(members)
    whole = present if meeting.majority_of == "present" else members
    votes_needed = meeting.majority.needed(whole)
    quorate = meeting.quorum.met(present, members)
    majority = meeting.majority.met(votes_for, whole)
    adopted = quorate and majority
    if not quorate:
        reason = (f"no quorum: {present} of {members} present, the {meeting.name} needs "
                  f"{meeting.quorum.describe()} of its members present ({quorum_needed})")
    else:
        reason = (f"{votes_for} for: the {meeting.name} adopts with "
                  f"{meeting.majority.describe()} of the {whole} "
                  f"{'present' if meeting.majority_of == 'present' else 'members'} "
                  f"({votes_needed}), so the motion was {'adopted' if adopted else 'rejected'}")
    return MeetingResult(quorate, majority, adopted, quorum_needed, votes_needed, reason)


def count_problems(members: int, present: int, votes_for: int, against: int,
                   abstain: int) -> dict[str, str]:
    """Figures that contradict each other, by field."""
    problems = {}
    if present > members:
        problems["attendance.present"] = f"{present} present is more than the {members} members"
    if votes_for + against + abstain > present:
        problems["votes"] = (f"{votes_for + against + abstain} votes cast is more than the "
                             f"{present} present")
    return problems
