from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.members import resident_id as rid
from services.members import schemas
from services.members.schemas import (KIND_FIELDS, ActivityInput, LeaveInput, MemberInput, OrgUnitInput,
                                      ProjectInput, StepInput, TeamInput, TransferInput, load)
from shared.contracts.members import ACTIVITY_KINDS
from shared.errors import InvalidInput

TODAY = date(2025, 6, 15)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(schemas, "today", lambda: TODAY)


def refused(schema, data, partial=False):
    with pytest.raises(InvalidInput) as caught:
        load(schema, data, partial=partial)
    return caught.value.errors


# --- org units ---------------------------------------------------------------------------------

def test_org_unit_strips_name():
    assert load(OrgUnitInput, {"name": "  羊二庄回族镇党委 ", "kind": "township_committee", "parent_id": 1}) == {
        "name": "羊二庄回族镇党委", "kind": "township_committee", "parent_id": 1}
    assert load(OrgUnitInput, {"name": "黄骅市委", "kind": "city_committee", "parent_id": None})["parent_id"] is None


def test_org_unit_refusals():
    errors = refused(OrgUnitInput, {"name": "   ", "kind": "party_group", "parent_id": "x"})
    assert set(errors) == {"name", "kind", "parent_id"}
    assert set(refused(OrgUnitInput, {"name": "x" * 101, "kind": "village_branch", "parent_id": 2})) == {"name"}
    assert set(refused(OrgUnitInput, {"name": "a", "kind": "village_branch"})) == {"parent_id"}
    assert set(refused(OrgUnitInput, {"name": "a", "kind": "village_branch", "parent_id": 2, "x": 1})) == {"x"}


# --- members -----------------------------------------------------------------------------------

BORN = date(1980, 2, 29)


def member(**changes):
    data = {"name": "王建国", "gender": "male", "ethnicity": "汉族", "birth_date": BORN.isoformat(),
            "resident_id": rid.make("130983", BORN, 12, "male"), "phone": "13812345678",
            "education": "senior_secondary", "join_date": "2010-07-01", "status": "full", "branch_id": 7}
    data.update(changes)
    return data


def test_valid_member():
    loaded = load(MemberInput, member())
    assert loaded["birth_date"] == BORN
    assert loaded["household_plaque"] is False
    assert load(MemberInput, member(phone="0317-5321234", household_plaque=True))["household_plaque"] is True
    assert load(MemberInput, member(phone=None, education=None))["phone"] is None


def test_resident_id_lowercase_x_is_normalised():
    for sequence in range(100):
        number = rid.make("130983", BORN, sequence, "female")
        if number.endswith("X"):
            break
    loaded = load(MemberInput, member(gender="female", resident_id=number.lower()[:17] + "x"))
    assert loaded["resident_id"] == number


@pytest.mark.parametrize("number, reason", [
    ("13098319800229121", "18 characters"),
    ("1309831980022912AX", "17 digits"),
    ("130983198002301213", "impossible birth date"),
])
def test_resident_id_shape(number, reason):
    errors = refused(MemberInput, member(resident_id=number))
    assert list(errors) == ["resident_id"]
    assert reason in errors["resident_id"][0]


def test_resident_id_check_digit():
    good = rid.make("130983", BORN, 12, "male")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    errors = refused(MemberInput, member(resident_id=bad))
    assert errors == {"resident_id": ["check digit does not match (GB 11643)"]}


def test_resident_id_against_birth_date_and_gender():
    errors = refused(MemberInput, member(birth_date="1980-03-01", gender="female"))
    assert list(errors) == ["resident_id"]
    assert len(errors["resident_id"]) == 2
    assert "birth date" in errors["resident_id"][0] and "gender" in errors["resident_id"][1]


def test_cross_checks_still_run_when_another_field_fails():
    errors = refused(MemberInput, member(phone="12345", gender="female"))
    assert set(errors) == {"phone", "resident_id"}


@pytest.mark.parametrize("phone", ["1381234567", "12812345678", "138123456789", "0317-12345", "317-1234567",
                                   "+8613812345678"])
def test_bad_phone(phone):
    assert set(refused(MemberInput, member(phone=phone))) == {"phone"}


def test_member_field_rules():
    errors = refused(MemberInput, member(name=" 王 ", gender="M", ethnicity="", education="phd",
                                         status="candidate", branch_id=None))
    assert set(errors) == {"name", "gender", "ethnicity", "education", "status", "branch_id"}
    errors = refused(MemberInput, {})
    assert {"name", "gender", "ethnicity", "birth_date", "resident_id", "join_date", "status",
            "branch_id"} <= set(errors)


def test_join_date_rules():
    # 29 February 1980: 18 on 1 March 1998
    assert load(MemberInput, member(join_date="1998-03-01"))["join_date"] == date(1998, 3, 1)
    errors = refused(MemberInput, member(join_date="1998-02-28"))
    assert list(errors) == ["join_date"] and "at least 18" in errors["join_date"][0]
    assert set(refused(MemberInput, member(join_date=(TODAY + timedelta(days=1)).isoformat()))) == {"join_date"}
    assert load(MemberInput, member(join_date=TODAY.isoformat()))["join_date"] == TODAY


def test_birth_date_bounds():
    old = date(1899, 12, 31)
    errors = refused(MemberInput, member(birth_date=old.isoformat(), resident_id=rid.make("130983", old, 1, "male")))
    assert "birth_date" in errors
    future = TODAY + timedelta(days=3)
    errors = refused(MemberInput, member(birth_date=future.isoformat(),
                                         resident_id=rid.make("130983", future, 1, "male")))
    assert "birth_date" in errors and "join_date" in errors


def test_partial_member_update():
    assert load(MemberInput, {"phone": "15931712345"}, partial=True) == {"phone": "15931712345"}
    assert set(refused(MemberInput, {"phone": "1593171234"}, partial=True)) == {"phone"}


# --- activities --------------------------------------------------------------------------------

EXTRA = {"hours": "2.5", "team_id": 3, "project": "爱心早餐", "meeting_kind": "party_lesson",
         "attended": True, "amount": "100.00", "households": 2}


def activity(kind, **fields):
    return {"member_id": 5, "kind": kind, "occurred_on": "2025-06-01", **fields}


def complete(kind):
    return activity(kind, **{f: EXTRA[f] for f, required in KIND_FIELDS[kind].items() if required})


def test_kind_table_covers_every_kind():
    assert set(KIND_FIELDS) == set(ACTIVITY_KINDS)


@pytest.mark.parametrize("kind", ACTIVITY_KINDS)
def test_each_kind_with_its_required_fields(kind):
    loaded = load(ActivityInput, complete(kind))
    assert loaded["kind"] == kind
    for field in schemas.KIND_SPECIFIC:
        if field not in KIND_FIELDS[kind]:
            assert loaded[field] is None


@pytest.mark.parametrize("kind, field", [(k, f) for k, spec in KIND_FIELDS.items()
                                         for f, required in spec.items() if required])
def test_each_required_field_missing(kind, field):
    data = complete(kind)
    del data[field]
    errors = refused(ActivityInput, data)
    assert errors == {field: [f"required for kind {kind}"]}
    data[field] = None
    assert refused(ActivityInput, data) == {field: [f"required for kind {kind}"]}


@pytest.mark.parametrize("kind, field", [(k, f) for k in ACTIVITY_KINDS for f in schemas.KIND_SPECIFIC
                                         if f not in KIND_FIELDS[k]])
def test_each_foreign_field_refused(kind, field):
    errors = refused(ActivityInput, {**complete(kind), field: EXTRA[field]})
    assert errors == {field: [f"does not apply to kind {kind}"]}
    assert load(ActivityInput, {**complete(kind), field: None})[field] is None


def test_volunteer_optional_fields():
    loaded = load(ActivityInput, activity("volunteer_service", hours="3", team_id=4, project="  文明交通 "))
    assert loaded["hours"] == Decimal("3") and loaded["team_id"] == 4 and loaded["project"] == "文明交通"


@pytest.mark.parametrize("hours, ok", [("0.01", True), ("24", True), (24.0, True), ("1.50", True), ("0", False),
                                       ("-1", False), ("24.01", False), ("1.255", False), ("abc", False),
                                       ("NaN", False), (True, False)])
def test_hours(hours, ok):
    data = activity("volunteer_service", hours=hours)
    if ok:
        load(ActivityInput, data)
    else:
        assert set(refused(ActivityInput, data)) == {"hours"}


@pytest.mark.parametrize("amount, ok", [("0.01", True), ("1000000", True), ("1000000.01", False), ("0", False),
                                        ("10.005", False)])
def test_amount(amount, ok):
    data = activity("donation", amount=amount)
    if ok:
        assert load(ActivityInput, data)["amount"] == Decimal(amount)
    else:
        assert set(refused(ActivityInput, data)) == {"amount"}


@pytest.mark.parametrize("households, ok", [(1, True), (50, True), ("7", True), (0, False), (51, False),
                                            (2.5, False), ("2.5", False)])
def test_households(households, ok):
    data = activity("pairing", households=households)
    if ok:
        load(ActivityInput, data)
    else:
        assert set(refused(ActivityInput, data)) == {"households"}


def test_meeting_kind_and_attended():
    assert set(refused(ActivityInput, activity("meeting", meeting_kind="party_congress", attended=True))) == {
        "meeting_kind"}
    assert load(ActivityInput, activity("meeting", meeting_kind="group_meeting", attended=False))["attended"] is False
    assert load(ActivityInput, activity("study", attended="是"))["attended"] is True
    assert set(refused(ActivityInput, activity("study", attended="maybe"))) == {"attended"}


def test_occurred_on_window():
    assert load(ActivityInput, complete("badge_wearing") | {"occurred_on": TODAY.isoformat()})
    oldest = TODAY - timedelta(days=366)
    assert load(ActivityInput, complete("badge_wearing") | {"occurred_on": oldest.isoformat()})
    errors = refused(ActivityInput, complete("badge_wearing") | {"occurred_on": (oldest - timedelta(1)).isoformat()})
    assert list(errors) == ["occurred_on"] and "366 days" in errors["occurred_on"][0]
    errors = refused(ActivityInput, complete("badge_wearing") | {"occurred_on": (TODAY + timedelta(1)).isoformat()})
    assert errors == {"occurred_on": ["must not be in the future"]}


def test_activity_basics():
    errors = refused(ActivityInput, {"member_id": 0, "kind": "dancing", "occurred_on": "yesterday"})
    assert set(errors) == {"member_id", "kind", "occurred_on"}


# --- transfers, leaving, teams, steps ----------------------------------------------------------

def test_transfer_and_leave():
    loaded = load(TransferInput, {"member_id": 1, "to_branch_id": 2, "kind": "flow_out", "on": "2025-01-02"})
    assert loaded["note"] is None and loaded["on"] == date(2025, 1, 2)
    assert set(refused(TransferInput, {"member_id": 1, "to_branch_id": 2, "kind": "move", "on": "x"})) == {
        "kind", "on"}
    assert load(LeaveInput, {"member_id": 1, "reason": "deceased", "on": "2025-01-02", "note": " 病故 "})[
        "note"] == "病故"
    assert set(refused(LeaveInput, {"member_id": 1, "reason": "retired", "on": "2025-01-02"})) == {"reason"}


def test_team_and_project():
    assert load(TeamInput, {"name": "红马甲志愿服务队"}) == {
        "name": "红马甲志愿服务队", "branch_id": None, "township_id": None, "description": None}
    assert set(refused(TeamInput, {"name": " "})) == {"name"}
    assert load(ProjectInput, {"team_id": 3, "name": "爱心早餐"}) == {"team_id": 3, "name": "爱心早餐"}
    assert set(refused(ProjectInput, {"name": "爱心早餐"})) == {"team_id"}


def test_step_input():
    assert load(StepInput, {"step": "vote", "on": "2025-06-15", "by": " 李书记 "}) == {
        "step": "vote", "on": TODAY, "by": "李书记", "data": {}}
    assert set(refused(StepInput, {"step": "vote", "on": "2025-06-16", "by": ""})) == {"on", "by"}


def test_load_refuses_non_object_naming_the_argument():
    assert refused(OrgUnitInput, ["not", "a", "dict"]) == {
        "payload": ["must be an object (a JSON dictionary)"]}
    with pytest.raises(InvalidInput) as caught:
        load(StepInput, "vote", field="step")
    assert list(caught.value.errors) == ["step"]


def test_full_width_resident_id_and_phone_are_stored_in_ascii():
    typed = member(resident_id=member()["resident_id"].translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
                   phone="０３１７－５３２１２３４")
    loaded = load(MemberInput, typed)
    assert loaded["resident_id"] == member()["resident_id"] and loaded["resident_id"].isascii()
    assert loaded["phone"] == "0317-5321234"
    assert rid.problems("１" * 18) == ["must be 17 digits followed by a digit or X"]


def test_control_characters_and_numbers_past_their_columns_are_refused():
    assert set(refused(MemberInput, member(name="王\x00建国", ethnicity="汉\x07"))) == {"name", "ethnicity"}
    assert set(refused(MemberInput, member(branch_id=2 ** 63))) == {"branch_id"}
    day = (TODAY - timedelta(days=1)).isoformat()
    for amount in ("1e999", "123456789012345678901234567890", "NaN", "-Infinity", "1.005"):
        assert set(refused(ActivityInput, {"member_id": 1, "kind": "donation", "occurred_on": day,
                                           "amount": amount})) == {"amount"}, amount
