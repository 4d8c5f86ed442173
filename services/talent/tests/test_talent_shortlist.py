"""The village secretary shortlist (pure): every exclusion with its reason, the ranking with
each criterion's share, places beyond the shortlist, and what happens when stars is down."""
from dataclasses import replace
from datetime import date
from decimal import Decimal

from services.talent import settings
from services.talent.shortlist import Answer, shortlist

DAY = date(2026, 11, 27)
RULES = settings.load({}).shortlist
VACANCY = {"village_id": 12, "village": "前辛庄村党支部", "township_id": 2, "township": "旧城镇",
           "state": "no village secretary recorded"}


def candidate(cadre_id, born="1988-05-01", education="associate", member_id=None, years=6,
              village_id=12, standing="full_member", post=None):
    return {"cadre_id": cadre_id, "name": f"候选人{cadre_id}", "birth_date": date.fromisoformat(born),
            "education": education, "experience_years": years,
            "member_id": cadre_id + 100 if member_id is None else member_id,
            "village_id": village_id, "township_id": 2, "standing": standing, "post": post}


def stars(**levels):
    return Answer(available=True, period="2026-Q4",
                  levels={int(k[1:]): v for k, v in levels.items()})


def by_id(found, part):
    return {c["cadre_id"]: c for c in found[part]}


def test_each_excluded_candidate_hears_every_reason():
    post = {"role": "first_secretary", "unit": "后辛庄村党支部", "started_on": date(2025, 3, 1)}
    people = [candidate(1, born="1970-01-01"),                       # too old
              candidate(2, education="junior_secondary"),            # education
              candidate(3, standing="probationary_member"),          # standing
              candidate(4, post=post),                               # holds a post
              candidate(5),                                          # 2 stars
              candidate(6),                                          # unknown to stars
              candidate(7, born="1960-01-01", education="primary"),  # several at once
              candidate(8, member_id=0, standing="activist")]        # no member at all
    people[7]["member_id"] = None
    found = shortlist(people, VACANCY, RULES, DAY, stars(m101=4, m102=4, m103=4, m104=5, m105=2,
                                                         m107=1))
    assert found["shortlist"] == [] and found["complete"]
    why = {cadre_id: c["why_not"] for cadre_id, c in by_id(found, "excluded").items()}
    assert why[1] == ["too old: aged 56 on 2026-11-27, over the limit of 50 (shortlist.max_age)"]
    assert why[2] == ["education junior_secondary is below the minimum senior_secondary "
                      "(shortlist.min_education)"]
    assert "political standing probationary_member" in why[3][0]
    assert why[4] == ["already holds a post: first_secretary of 后辛庄村党支部 since 2025-03-01 "
                      "(shortlist.exclude_post_holders)"]
    assert why[5] == ["star level below the minimum 3 (shortlist.min_star_level): "
                      "2 stars (2026-Q4, live)"]
    assert "stars has no record of member 106: counted as 0 stars" in why[6][0]
    assert len(why[7]) == 3 and why[7][0].startswith("too old") and "star level" in why[7][2]
    assert any("not a Party member" in reason for reason in why[8])


def test_the_ranking_explains_each_place_and_its_points_add_up():
    people = [candidate(1, born="1996-02-01", education="bachelor", years=3),   # young, learned
              candidate(2, born="1984-02-01", education="senior_secondary", years=12,
                        village_id=13),                                        # experienced
              candidate(3, born="1990-07-01", education="associate", years=10)]
    found = shortlist(people, VACANCY, RULES, DAY, stars(m101=3, m102=5, m103=4))
    ranked = found["shortlist"]
    assert [c["cadre_id"] for c in ranked] == [3, 1, 2]
    assert [c["rank"] for c in ranked] == [1, 2, 3]
    for entry in ranked:
        shares = {p["criterion"]: Decimal(p["points"]) for p in entry["points"]}
        assert sum(shares.values()) == Decimal(entry["total"])
        assert len(entry["reasons"]) == 5 and len(entry["meets"]) == 5
    first = ranked[0]
    # aged 36: (50 - 36) / (50 - 30) = 0.70 of 20 points; associate 0.7 of 25; 10 years 1.0 of 25;
    # 4 stars 0.8 of 20; home village 1.0 of 10 -> 14 + 17.5 + 25 + 16 + 10
    assert first["total"] == "82.50"
    assert "aged 36, scores 0.70 x weight 20 = 14.00 points" in first["reasons"][0]
    assert "from another village, scores 0.00" in ranked[2]["reasons"][4]


def test_candidates_beyond_the_size_are_ranked_below_and_told_why():
    rules = replace(RULES, size=2)
    people = [candidate(i, years=i) for i in range(1, 5)]
    found = shortlist(people, VACANCY, rules, DAY, stars(m101=3, m102=3, m103=3, m104=3))
    assert [c["cadre_id"] for c in found["shortlist"]] == [4, 3]
    below = found["ranked_below"]
    assert [(c["cadre_id"], c["rank"]) for c in below] == [(2, 3), (1, 4)]
    assert below[0]["why_not"] == ["ranked 3; the shortlist holds 2 (shortlist.size)"]


def test_the_configured_criteria_decide():
    people = [candidate(1, born="1970-01-01")]
    older_allowed = replace(RULES, max_age=60, age_full_marks_at=40)
    assert shortlist(people, VACANCY, RULES, DAY, stars(m101=5))["shortlist"] == []
    assert len(shortlist(people, VACANCY, older_allowed, DAY, stars(m101=5))["shortlist"]) == 1
    no_stars_needed = replace(RULES, min_star_level=0)
    assert len(shortlist([candidate(2)], VACANCY, no_stars_needed, DAY, stars())["shortlist"]) == 1
    post_holders_too = replace(RULES, exclude_post_holders=False)
    holder = candidate(3, post={"role": "first_secretary", "unit": "x", "started_on": DAY})
    assert len(shortlist([holder], VACANCY, post_holders_too, DAY, stars(m103=3))["shortlist"]) == 1


def test_when_stars_is_down_the_answer_says_so_and_ranks_without_stars():
    down = Answer(available=False, period="2026-Q4",
                  reason="stars.score gave no answer within 3.0 s")
    people = [candidate(1, education="bachelor"), candidate(2, born="1960-01-01")]
    found = shortlist(people, VACANCY, RULES, DAY, down)
    assert not found["complete"] and found["stars"]["available"] is False
    assert "stars.score gave no answer within 3.0 s" in found["notes"][0]
    [only] = found["shortlist"]
    star = next(p for p in only["points"] if p["criterion"] == "star_level")
    assert star["weight"] == "0" and star["points"] == "0.00"
    assert "not checked: stars did not answer" in only["reasons"][3]
    assert sum(Decimal(p["points"]) for p in only["points"]) == Decimal(only["total"])
    assert by_id(found, "excluded")[2]["why_not"][0].startswith("too old")
