"""What the stars scoring decided, read back for comparison between runs."""
from decimal import Decimal

from sqlalchemy import func, select

from services.stars.models import LedgerEntry, StandingRow


def scoring_state(database):
    """(standings without when they were reached, ledger totals per subject), zeros left out."""
    with database.reading() as session:
        standing = session.execute(select(
            StandingRow.subject_kind, StandingRow.subject_id, StandingRow.period,
            StandingRow.own_score, StandingRow.score, StandingRow.level)).all()
        totals = session.execute(select(LedgerEntry.subject_kind, LedgerEntry.subject_id,
                                        func.sum(LedgerEntry.points)).group_by(
            LedgerEntry.subject_kind, LedgerEntry.subject_id)).all()
    return ({(k, i, p): (Decimal(o), Decimal(s), lv) for k, i, p, o, s, lv in standing
             if Decimal(s) != 0 or lv != 0},
            {(k, i): Decimal(t) for k, i, t in totals if Decimal(t) != 0})
