"""The annual report-and-review assessment (述职评议考核) of a township Party secretary (pure):
a score per configured source, each with its explanation, the weighted total and the grade.

Sources (weights in ``assessment.weights``):

* ``service_star``: the committee's Service Star (服务星) as the stars service closed it: the
  year's level when the year is closed, else the mean of the points of the closed quarters'
  levels (``assessment.star_points`` per level);
* ``review_votes``: the mean of the points of the review votes the county entered
  (``assessment.vote_points``);
* ``rectification_on_time``: the share of the rectification items due in the year that were
  done by their deadline, times 100 (``assessment.no_rectification_due`` when none fell due).

A source without data is listed under ``missing`` with what it waits for, and there is no total
until every source has one."""
from decimal import ROUND_HALF_UP, Decimal

from services.talent.plain import plain

CENT = Decimal("0.01")


def assess(year: int, stars: list[dict], votes: dict | None, rectification: dict, rules) -> dict:
    """``stars``: the committee's Service Stars received ({period, level, score, rank, vetoes});
    ``votes``: {excellent, good, fair, poor} or None; ``rectification``:
    ``duty_rules.rectification_record``."""
    found = {"service_star": service_star(year, stars, rules.star_points),
             "review_votes": review_votes(votes, rules.vote_points),
             "rectification_on_time": rectification_share(year, rectification,
                                                           rules.no_rectification_due)}
    sources, missing, total = [], [], Decimal(0)
    for source, (score, explanation) in found.items():
        weight = Decimal(str(rules.weights[source]))
        if score is None:
            missing.append({"source": source, "weight": weight, "explanation": explanation})
            continue
        weighted = cents(score * weight)
        total += weighted
        sources.append({"source": source, "weight": weight, "score": cents(score),
                        "weighted": weighted, "explanation": explanation})
    answer = {"year": year, "sources": sources, "missing": missing, "complete": not missing,
              "total": None, "grade": None, "grade_explanation": None}
    if not missing:
        grade, explanation = grade_of(total, rules.bands)
        answer.update(total=cents(total), grade=grade, grade_explanation=explanation)
    return plain(answer)


def service_star(year: int, stars: list[dict], star_points: dict):
    annual = [s for s in stars if s["period"] == str(year)]
    quarters = sorted((s for s in stars if s["period"].startswith(f"{year}-Q")),
                      key=lambda s: s["period"])
    if annual:
        star = annual[0]
        points = Decimal(str(star_points[star["level"]]))
        return points, (f"annual Service Star {year}: {_star_text(star)} -> {cents(points)} "
                        f"points (assessment.star_points)")
    if quarters:
        points = [Decimal(str(star_points[s["level"]])) for s in quarters]
        mean = sum(points) / len(points)
        listed = "; ".join(f"{s['period']} {_star_text(s)} -> {cents(p)}"
                           for s, p in zip(quarters, points))
        return mean, (f"the year {year} is not closed yet: mean of the closed quarters' "
                      f"points ({listed}) = {cents(mean)}")
    return None, (f"no Service Star for {year} yet: the stars service sends each committee's "
                  f"when it closes a quarter or the year")


def _star_text(star) -> str:
    text = f"{star['level']} stars (score {star['score']}, county rank {star['rank']})"
    return text + (f", vetoed: {', '.join(star['vetoes'])}" if star.get("vetoes") else "")


def review_votes(votes: dict | None, vote_points: dict):
    if votes is None:
        return None, "the county has not entered the review votes for this year"
    cast = sum(votes[kind] for kind in vote_points)
    score = sum(votes[kind] * Decimal(str(points)) for kind, points in vote_points.items()) / cast
    listed = ", ".join(f"{votes[kind]} {kind} x {Decimal(str(points))}"
                       for kind, points in vote_points.items())
    return score, f"{cast} votes ({listed}): mean {cents(score)} points"


def rectification_share(year: int, record: dict, when_none):
    if not record["due"]:
        return Decimal(str(when_none)), (f"no rectification item fell due in {year}: "
                                         f"{cents(Decimal(str(when_none)))} points "
                                         f"(assessment.no_rectification_due)")
    share = Decimal(100) * record["on_time"] / record["due"]
    text = (f"{record['on_time']} of {record['due']} rectification items due in {year} were "
            f"done by their deadline: {cents(share)}%")
    if record["late"]:
        text += "; late: " + "; ".join(
            f"#{item['id']} {item['title']} (deadline {item['deadline']}, "
            f"{'done ' + item['done_on'] if item['done_on'] else 'not done'})"
            for item in record["late"])
    return share, text


def grade_of(total: Decimal, bands) -> tuple[str, str]:
    """The first band (highest first) whose minimum ``total`` reaches, and why."""
    for position, (grade, minimum) in enumerate(bands):
        if total >= minimum:
            above = bands[position - 1] if position else None
            text = f"{cents(total)} is at least {cents(minimum)} ({grade})"
            if above:
                text += f" and below {cents(above[1])} ({above[0]})"
            return grade, text + " (assessment.bands)"
    raise ValueError("the last band must start at 0")


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
