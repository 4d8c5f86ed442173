"""The annual report-and-review assessment (述职评议考核) of township Party secretaries: the
Service Stars learned from the stars service's closings, the review votes the county enters,
and the assessment itself (``grading``), published as ``assessment_completed``."""
from datetime import date, datetime

from sqlalchemy import select

from services.talent import cadres, directory, duties, duty_rules, grading
from services.talent.models import Assessment, Post, ReviewVotes, ServiceStar
from services.talent.plain import plain
from shared.errors import Conflict, NotFound


def learn_closing(session, event):
    """Keep each committee's Service Star of a closed quarter or year (``quarter_closed``,
    ``year_closed``). A period is closed once, so a result already kept is left as it is."""
    data = event.data
    closed_at = data["closed_at"]
    if isinstance(closed_at, str):
        closed_at = datetime.fromisoformat(closed_at)
    for committee in data["committees"]:
        key = (committee["committee_id"], data["period"])
        if session.get(ServiceStar, key) is not None:
            continue
        session.add(ServiceStar(township_id=key[0], period=key[1], score=committee["score"],
                                level=committee["level"], rank=committee["rank"],
                                vetoes=list(committee.get("vetoes") or []),
                                closed_at=closed_at, event_id=event.id))
    session.flush()


def service_stars(session, township_id, year=None) -> list[dict]:
    query = select(ServiceStar).where(ServiceStar.township_id == township_id)
    if year is not None:
        query = query.where(ServiceStar.period.like(f"{year}%"))
    return [{"period": s.period, "score": s.score, "level": s.level, "rank": s.rank,
             "vetoes": list(s.vetoes or []), "closed_at": s.closed_at}
            for s in session.scalars(query.order_by(ServiceStar.period))]


def record_votes(session, data, today: date) -> dict:
    cadre = cadres.get(session, data["cadre_id"])
    secretary_post(session, cadre.id, data["year"])
    if session.scalar(select(Assessment.id).where(Assessment.cadre_id == cadre.id,
                                                  Assessment.year == data["year"])):
        raise Conflict(f"cadre {cadre.id}'s {data['year']} assessment is completed: its votes "
                       f"are final")
    votes = session.get(ReviewVotes, (cadre.id, data["year"])) or ReviewVotes(
        cadre_id=cadre.id, year=data["year"])
    for key in ("excellent", "good", "fair", "poor", "entered_by"):
        setattr(votes, key, data[key])
    votes.entered_on = today
    session.add(votes)
    session.flush()
    return plain({"cadre_id": cadre.id, "year": votes.year, "excellent": votes.excellent,
                  "good": votes.good, "fair": votes.fair, "poor": votes.poor,
                  "entered_by": votes.entered_by, "entered_on": votes.entered_on})


def secretary_post(session, cadre_id, year) -> Post:
    """The township secretary post ``cadre_id`` held latest in ``year`` (``Conflict``: none)."""
    post = session.scalars(select(Post).where(
        Post.cadre_id == cadre_id, Post.role == "township_secretary",
        Post.started_on <= date(year, 12, 31),
        (Post.ended_on.is_(None)) | (Post.ended_on > date(year, 1, 1)))
        .order_by(Post.started_on.desc())).first()
    if post is None:
        raise Conflict(f"cadre {cadre_id} was no township secretary in {year}: the report-and-"
                       f"review assessment is theirs")
    return post


def preview(session, cadre_id, year, day: date, rules) -> dict:
    """The assessment as it stands on ``day``: every source's score and explanation, what is
    still missing, and the total and grade once nothing is."""
    cadre = cadres.get(session, cadre_id)
    post = secretary_post(session, cadre.id, year)
    votes = session.get(ReviewVotes, (cadre.id, year))
    record = duty_rules.rectification_record(duties.rectification_items(session, cadre.id, year),
                                             year, day)
    result = grading.assess(
        year, service_stars(session, post.township_id, year),
        votes and {k: getattr(votes, k) for k in ("excellent", "good", "fair", "poor")},
        record, rules)
    township = directory.names(session, [post.township_id]).get(post.township_id)
    return {"cadre_id": cadre.id, "name": cadre.name, "member_id": cadre.member_id,
            "township_id": post.township_id, "township": township, "on": day.isoformat(),
            **result}


def complete(session, cadre_id, year, assessed_by, day: date, rules) -> dict:
    """Fix the assessment: stored once, published as ``assessment_completed``."""
    existing = session.scalar(select(Assessment).where(Assessment.cadre_id == cadre_id,
                                                       Assessment.year == year))
    if existing is not None:
        raise Conflict(f"cadre {cadre_id}'s {year} assessment was completed on "
                       f"{existing.completed_on.isoformat()} ({existing.grade})")
    if day < date(year, 1, 1):
        raise Conflict(f"the {year} assessment is made once the year has begun")
    result = preview(session, cadre_id, year, day, rules)
    if result["missing"]:
        raise Conflict(f"cadre {cadre_id}'s {year} assessment lacks: " + "; ".join(
            f"{m['source']} ({m['explanation']})" for m in result["missing"]))
    row = Assessment(cadre_id=cadre_id, year=year, township_id=result["township_id"],
                     total=result["total"], grade=result["grade"], result=result,
                     assessed_by=assessed_by, completed_on=day)
    session.add(row)
    session.flush()
    answer = {**result, "assessment_id": row.id, "assessed_by": assessed_by,
              "completed_on": day.isoformat()}
    session.publish("assessment_completed", {
        "assessment_id": row.id, "cadre_id": cadre_id, "member_id": result["member_id"],
        "township_id": result["township_id"], "branch_id": None, "year": year,
        "total": result["total"], "grade": result["grade"],
        "grade_explanation": result["grade_explanation"],
        "sources": [{k: s[k] for k in ("source", "weight", "score", "explanation")}
                    for s in result["sources"]],
        "assessed_by": assessed_by, "occurred_on": day})
    row.result = answer
    return answer


def get(session, cadre_id, year) -> dict:
    row = session.scalar(select(Assessment).where(Assessment.cadre_id == cadre_id,
                                                  Assessment.year == year))
    if row is None:
        raise NotFound(f"cadre {cadre_id} has no completed {year} assessment")
    return row.result
