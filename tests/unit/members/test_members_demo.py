"""The seeded demo county (services/members/demo.py)."""
import calendar
import re
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from services.members import demo, resident_id
from shared.contracts import members as contract

MONTH = (2026, 10)
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)


@pytest.fixture(scope="module")
def county():
    return demo.generate(seed=2017, month=MONTH, scale=1.0)


@pytest.fixture(scope="module")
def small():
    return demo.generate(seed=7, month=(2024, 2), scale=0.01)


def by_kind(c):
    return Counter(u["kind"] for u in c.org_units)


def test_constants_mirror_the_contract():
    assert demo.ORG_KINDS == contract.ORG_KINDS
    assert demo.ACTIVITY_KINDS == contract.ACTIVITY_KINDS
    assert set(demo.CATEGORY_OF_BRANCH.values()) == set(contract.CATEGORIES)


def test_same_seed_same_county_and_other_seed_differs(county):
    assert demo.generate(seed=2017, month=MONTH) == county
    other = demo.generate(seed=2018, month=MONTH)
    assert other.members != county.members
    assert other.activities != county.activities


def test_global_random_untouched():
    import random
    random.seed(1)
    expected = random.random()
    random.seed(1)
    demo.generate(scale=0.02)
    assert random.random() == expected


def test_counts_at_full_scale_match_the_article(county):
    kinds = by_kind(county)
    assert kinds["city_committee"] == 1
    assert kinds["township_committee"] + kinds["street_committee"] == 10
    assert kinds["street_committee"] >= 1
    assert kinds["village_branch"] == 327
    assert 25 <= kinds["community_branch"] <= 35
    assert 20 <= kinds["institution_branch"] <= 30
    assert 15 <= kinds["nonpublic_branch"] <= 25
    assert abs(len(county.members) - 20_000) <= 1_000
    assert abs(len(county.teams) - 370) <= 10
    s = demo.summary(county)
    assert s["members"] == len(county.members) and s["village_branch"] == 327
    assert s["activities"] == len(county.activities)
    assert sum(s[f"activity.{k}"] for k in demo.ACTIVITY_KINDS) == s["activities"]


def test_org_tree_shape(county):
    units = {u["key"]: u for u in county.org_units}
    assert len(units) == len(county.org_units)
    names = [u["name"] for u in county.org_units]
    assert len(set(names)) == len(names)
    for u in county.org_units:
        assert u["kind"] in contract.ORG_KINDS and u["name"]
        if u["kind"] == "city_committee":
            assert u["parent_key"] is None and u["name"] == "黄骅市委"
        elif u["kind"] in ("township_committee", "street_committee"):
            assert u["parent_key"] == "c" and re.fullmatch(r"t\d{2}", u["key"])
        else:
            parent = units[u["parent_key"]]
            assert parent["kind"] in ("city_committee", "township_committee", "street_committee")
            assert u["key"].startswith(parent["key"] + "-b")
        if u["kind"] == "village_branch":
            assert u["name"].endswith("村党支部") and u["parent_key"] != "c"
        if u["kind"] == "community_branch":
            assert units[u["parent_key"]]["kind"] == "street_committee"
    townships = demo.township_of(county)
    assert townships["c"] is None and townships["t03"] == "t03"
    assert all(townships[u["key"]] == u["parent_key"] for u in county.org_units
               if u["kind"] == "village_branch")


def test_every_resident_id_valid_and_unique(county):
    ids = [m["resident_id"] for m in county.members]
    assert len(set(ids)) == len(ids)
    for m in county.members:
        assert resident_id.problems(m["resident_id"], m["birth_date"], m["gender"]) == [], m


def test_member_fields_plausible(county):
    keys = [m["key"] for m in county.members]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"m\d{6}", k) for k in keys)
    phones = [m["phone"] for m in county.members]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    assert len(set(phones)) == len(phones)
    n = len(county.members)
    male = sum(m["gender"] == "male" for m in county.members) / n
    assert 0.65 <= male <= 0.75
    ethnic = Counter(m["ethnicity"] for m in county.members)
    assert ethnic["汉族"] / n > 0.9 and ethnic["回族"] > 0 and set(ethnic) <= {"汉族", "回族", "满族"}
    assert all(2 <= len(m["name"]) <= 3 for m in county.members)
    assert set(m["education"] for m in county.members) <= set(demo.EDUCATION_LEVELS)
    prob = sum(m["status"] == "probationary" for m in county.members) / n
    assert 0.015 <= prob <= 0.05
    rural = [m for m in county.members if m["branch_key"] in {
        u["key"] for u in county.org_units if u["kind"] == "village_branch"}]
    assert 0.75 <= sum(m["household_plaque"] for m in rural) / len(rural) <= 0.85


def age_on(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@pytest.mark.parametrize("which", ["county", "small"])
def test_dates_ages_and_join_rules(which, request):
    c = request.getfixturevalue(which)
    month = MONTH if which == "county" else (2024, 2)
    last = date(*month, calendar.monthrange(*month)[1])
    for m in c.members:
        assert 20 <= age_on(m["birth_date"], last) <= 85, m
        assert m["join_date"] >= demo.add_years(m["birth_date"], 18), m
        assert m["join_date"] <= last
        if m["status"] == "probationary":
            assert (last - m["join_date"]).days < 365
        else:
            assert m["status"] == "full" and (last - m["join_date"]).days >= 365


@pytest.mark.parametrize("which", ["county", "small"])
def test_references_resolve(which, request):
    c = request.getfixturevalue(which)
    units = {u["key"]: u for u in c.org_units}
    branches = {k for k, u in units.items() if u["kind"] in demo.BRANCH_KINDS}
    members = {m["key"]: m for m in c.members}
    teams = {t["key"]: t for t in c.teams}
    assert all(m["branch_key"] in branches for m in c.members)
    for t in c.teams:
        assert t["township_key"] is None or units[t["township_key"]]["kind"] in (
            "township_committee", "street_committee")
        assert t["branch_key"] is None or t["branch_key"] in branches
        if t["branch_key"]:
            assert demo.township_of(c)[t["branch_key"]] == t["township_key"]
    project_names = {}
    for p in c.projects:
        assert p["team_key"] in teams
        project_names.setdefault(p["team_key"], set()).add(p["name"])
    assert set(project_names) == set(teams)
    for a in c.activities:
        assert a["member_key"] in members
        if a["team_key"] is not None:
            assert a["team_key"] in teams and a["project"] in project_names[a["team_key"]]


def test_activities_valid_and_inside_the_month(county):
    members = {m["key"]: m for m in county.members}
    fields = {"member_key", "kind", "occurred_on", "hours", "team_key", "project",
              "meeting_kind", "attended", "amount", "households"}
    for a in county.activities:
        assert set(a) == fields
        assert a["kind"] in contract.ACTIVITY_KINDS
        assert FIRST <= a["occurred_on"] <= LAST
        assert a["occurred_on"] >= members[a["member_key"]]["join_date"]
        kind = a["kind"]
        if kind == "volunteer_service":
            assert isinstance(a["hours"], Decimal) and Decimal(1) <= a["hours"] <= Decimal(4)
            assert a["team_key"] and a["project"]
        else:
            assert a["hours"] is None and a["team_key"] is None and a["project"] is None
        if kind == "meeting":
            assert a["meeting_kind"] in demo.MEETING_KINDS and isinstance(a["attended"], bool)
        elif kind == "study":
            assert a["meeting_kind"] is None and isinstance(a["attended"], bool)
        else:
            assert a["meeting_kind"] is None and a["attended"] is None
        if kind == "donation":
            assert Decimal(50) <= a["amount"] <= Decimal(2000)
        else:
            assert a["amount"] is None
        assert (1 <= a["households"] <= 3) if kind == "pairing" else a["households"] is None


def test_activity_mix(county):
    n = len(county.members)
    per_member = Counter(a["member_key"] for a in county.activities if a["kind"] == "volunteer_service")
    assert 0.4 <= len(per_member) / n <= 0.6
    assert max(per_member.values()) <= 3
    meetings = [a for a in county.activities if a["kind"] == "meeting"]
    assert {a["meeting_kind"] for a in meetings} == set(demo.MEETING_KINDS)
    assert 0.8 <= sum(a["attended"] for a in meetings) / len(meetings) < 1
    assert len({a["member_key"] for a in meetings}) / n > 0.95
    kinds = Counter(a["kind"] for a in county.activities)
    assert set(kinds) == set(contract.ACTIVITY_KINDS)
    assert kinds["blood_donation"] < kinds["donation"] < kinds["study"]
    reporting = {u["key"] for u in county.org_units if u["kind"] in ("community_branch", "institution_branch")}
    members = {m["key"]: m for m in county.members}
    assert all(members[a["member_key"]]["branch_key"] in reporting
               for a in county.activities if a["kind"] == "community_report")


def test_only_plain_data(county):
    plain = (str, int, bool, date, Decimal, type(None))
    for table in (county.org_units, county.members, county.teams, county.projects,
                  county.activities[:5000]):
        for row in table:
            assert all(isinstance(v, plain) for v in row.values()), row


def test_small_scale_has_every_kind(small):
    kinds = by_kind(small)
    assert kinds["township_committee"] + kinds["street_committee"] >= 1
    for kind in demo.BRANCH_KINDS:
        assert kinds[kind] >= 1
    assert 3 <= len(small.members) <= 500
    assert small.teams and small.projects and small.activities
    assert all(date(2024, 2, 1) <= a["occurred_on"] <= date(2024, 2, 29) for a in small.activities)
    branches_with_members = {m["branch_key"] for m in small.members}
    assert all(u["key"] in branches_with_members for u in small.org_units
               if u["kind"] in demo.BRANCH_KINDS)


@pytest.mark.parametrize("scale", [0.001, 0.05, 0.3])
def test_other_scales_build(scale):
    c = demo.generate(seed=3, scale=scale)
    assert c.members and c.activities
    ids = [m["resident_id"] for m in c.members]
    assert len(set(ids)) == len(ids)


def test_full_scale_is_fast():
    import time
    began = time.perf_counter()
    demo.generate(seed=99)
    assert time.perf_counter() - began < 5


def test_generated_members_and_activities_pass_the_service_schemas(monkeypatch):
    from services.members import schemas
    county = demo.generate(scale=0.02)
    monkeypatch.setattr(schemas, "today", lambda: date(2026, 11, 5))
    for member in county.members[:300]:
        record = {k: v for k, v in member.items() if k not in ("key", "branch_key")}
        record.update(branch_id=1, birth_date=record["birth_date"].isoformat(),
                      join_date=record["join_date"].isoformat())
        schemas.load(schemas.MemberInput, record)
    for activity in county.activities[:2000]:
        row = {k: (str(v) if v is not None and k in ("hours", "amount", "occurred_on") else v)
               for k, v in activity.items() if k not in ("member_key", "team_key")}
        row.update(member_id=1, team_id=1 if activity["team_key"] else None)
        schemas.load(schemas.ActivityInput, row)
