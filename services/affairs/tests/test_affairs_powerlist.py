"""The power list as config: the county's default, what may be overridden, and the checks that
name the offending key (pure, no database)."""
from copy import deepcopy
from decimal import Decimal

import pytest

from services.affairs import powerlist
from shared import config as config_module

DEFAULT = config_module.load_yaml("affairs.yaml")


def rules(**overrides):
    return powerlist.load_rules(powerlist.merged(DEFAULT, overrides))


def test_the_default_power_list_has_five_categories_and_nineteen_items():
    found = rules()
    assert list(found.categories.values()) == ["民主决策", "党务", "村务", "民生", "其他"]
    assert len(found.items) == 19
    assert {i.category for i in found.items.values()} == set(found.categories)
    for code in ("major_spending", "land_contracting", "project_bidding", "asset_disposal",
                 "seal_use", "poor_households", "subsistence_households", "member_development",
                 "beautiful_village"):
        assert code in found.items
    assert found.procedures["full"].steps == (
        "proposal", "joint_meeting", "party_assembly", "villagers_assembly",
        "resolution_published", "execution", "implementation_published", "acceptance")
    assert found.deciding_steps == {"full": "villagers_assembly", "light": "joint_meeting",
                                    "party": "party_assembly"}


def test_an_item_with_a_threshold_takes_the_lighter_procedure_below_it():
    found = rules(amount_thresholds={"spending": "30000.00"})
    assert found.thresholds["spending"] == Decimal("30000.00")
    assert found.procedure_for("major_spending", Decimal("29999.99")).code == "light"
    assert found.procedure_for("major_spending", Decimal("30000.00")).code == "full"
    assert found.procedure_for("land_contracting", Decimal("1")).code == "full"
    assert found.procedure_for("land_contracting", None).code == "full"


def test_the_power_list_as_the_rpc_tells_it():
    told = powerlist.as_dict(rules())
    assert [c["name"] for c in told["categories"]] == ["民主决策", "党务", "村务", "民生", "其他"]
    assert sum(len(c["items"]) for c in told["categories"]) == 19
    assert told["meetings"]["representatives_meeting"] == {
        "name": "村民代表会议", "quorum": "at least 2/3 of the members",
        "majority": "more than 1/2 of the present"}
    spending = told["categories"][0]["items"][0]
    assert spending["threshold"] == "50000.00" and spending["below_threshold"] == "light"


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["items"]["seal_use"].update(procedure="lite"), "items.seal_use.procedure"),
    (lambda s: s["items"]["seal_use"].update(category="sports"), "items.seal_use.category"),
    (lambda s: s["items"]["seal_use"].update(threshold="spending"), "items.seal_use: threshold and below_threshold"),
    (lambda s: s["items"]["major_spending"].update(amount="optional"), "items.major_spending.amount"),
    (lambda s: s["meetings"]["representatives_meeting"].update(quorum={"at_least": "two thirds"}),
     "meetings.representatives_meeting.quorum.at_least"),
    (lambda s: s["meetings"]["joint_meeting"].update(quorum={"at_least": "1/2", "more_than": "1/2"}),
     "meetings.joint_meeting.quorum"),
    (lambda s: s["meetings"]["joint_meeting"]["majority"].update(of="everyone"),
     "meetings.joint_meeting.majority.of"),
    (lambda s: s["steps"]["joint_meeting"].update(meetings=["tea"]), "steps.joint_meeting.meetings"),
    (lambda s: s["steps"]["joint_meeting"].update(on_rejection="sulk"), "steps.joint_meeting.on_rejection"),
    (lambda s: s["steps"]["resolution_published"].update(notice_days=-1),
     "steps.resolution_published.notice_days"),
    (lambda s: s["procedures"]["light"].update(steps=["proposal", "execution", "joint_meeting",
                                                      "acceptance"]), "procedures.light.steps"),
    (lambda s: s["procedures"]["light"].update(steps=["proposal", "joint_meeting", "acceptance"]),
     "procedures.light.steps"),
    (lambda s: s["violations"].update(no_quorum="awful"), "violations.no_quorum"),
    (lambda s: s["publication"].update(base_url="ftp://x"), "publication.base_url"),
    (lambda s: s["amount_thresholds"].update(spending="lots"), "amount_thresholds.spending"),
])
def test_a_mistake_in_the_config_names_its_key(edit, message):
    spec = deepcopy(DEFAULT)
    edit(spec)
    with pytest.raises(ValueError) as refused:
        powerlist.load_rules(spec)
    assert str(refused.value).startswith(message)


def test_the_running_config_overrides_the_file():
    found = powerlist.settings({"affairs": {"publication": {"base_url": "https://x.example.org/p/"},
                                            "supervision": {"objection_answer_days": 5}}})
    assert found.public_url("villages/1/records/2") == "https://x.example.org/p/villages/1/records/2"
    assert found.objection_answer_days == 5 and found.sign_off_every_step is True
    assert found.channels == tuple(DEFAULT["publication"]["channels"])
