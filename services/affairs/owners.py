"""Whose is it (functions of a session): the village branch a matter, a piece of evidence or an
objection belongs to, for ``shared.scope`` (the routes' ``owner``). None when there is no such
row: the RPC itself then answers NotFound."""
from sqlalchemy import select

from services.affairs.models import Evidence, Matter, Objection


def branch_of_matter(session, matter_id: int):
    return session.scalar(select(Matter.branch_id).where(Matter.id == matter_id))


def branch_of_evidence(session, evidence_id: int):
    return session.scalar(select(Matter.branch_id).join(Evidence, Evidence.matter_id == Matter.id)
                          .where(Evidence.id == evidence_id))


def branch_of_objection(session, objection_id: int):
    return session.scalar(select(Matter.branch_id)
                          .join(Objection, Objection.matter_id == Matter.id)
                          .where(Objection.id == objection_id))
