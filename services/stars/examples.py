"""Valid calls of the stars RPCs for the shared input fuzz suite (``ServiceBase.rpc_examples``).

Stars learns its subjects from the members service's events, so the examples place a branch and a
member through ``cluster.members``, record an activity and wait until stars has scored it. The
closing examples close July to October (each once) and the third quarter after them.
"""
import time
from datetime import date, timedelta

from services.stars import books, periods, reports
from shared.errors import NotFound

# a valid resident ID (GB 11643) of a man born 1985-06-01: stars never sees it, members needs it
RESIDENT_ID = "130983198506017754"


def _wait_until_scored(stars, member_id, month, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if stars.score("member", member_id, month)["score"] not in ("0", "0.00"):
                return
        except NotFound:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"stars did not score member {member_id} within {timeout} s")
        time.sleep(0.1)


def rpc_examples(cluster) -> dict[str, list[dict]]:
    today = date.today()
    day = today - timedelta(days=1)
    month, quarter = periods.month_key(day), periods.quarter_key(day)
    town = cluster.members.list_townships()[0]["id"]
    branch = cluster.members.create_org_unit({"name": "星级示例村党支部", "kind": "village_branch",
                                              "parent_id": town})["id"]
    member = cluster.members.register_member({
        "name": "星级示例", "gender": "male", "ethnicity": "汉族", "birth_date": "1985-06-01",
        "resident_id": RESIDENT_ID, "phone": None, "education": None, "join_date": "2010-07-01",
        "status": "full", "branch_id": branch})["id"]
    cluster.members.record_activity({"member_id": member, "kind": "study",
                                     "occurred_on": day.isoformat(), "attended": True})
    _wait_until_scored(cluster.stars, member, month)
    loaded = books.load({})
    item = reports.sanction_items(books.in_force(loaded, day))[-1]
    past_months = [key for key in (periods.month_key(date(day.year, m, 1)) for m in (7, 8, 9, 10))
                   if periods.parse_period(key).end < today
                   and books.latest_for_period(loaded, key) is not None]
    member_subject = {"subject_kind": "member", "subject_id": member}
    examples = {
        "score": [{**member_subject, "period": month}],
        "explain": [{**member_subject, "period": month, "limit": 50}],
        "rank_of": [{**member_subject, "period": month, "scope_kind": "township"}],
        "top": [{"subject_kind": "member", "scope_kind": "branch", "scope_id": branch,
                 "period": month, "n": 10},
                {"subject_kind": "branch", "scope_kind": "county", "scope_id": None,
                 "period": quarter, "n": 5}],
        "distribution": [{"subject_kind": "member", "period": month}],
        "award_priority": [{"period": quarter}],
        "unqualified_review": [{"period": quarter}],
        "subsidy_report": [{"period": quarter, "cadres": [
            {"cadre_id": 1, "branch_id": branch, "base": "1200.00"},
            {"cadre_id": "村书记-2", "branch_id": branch + 1}]}],
        "record_sanction": [{"member_id": member, "item": item, "decided_on": day.isoformat(),
                             "reason": "无故缺席组织生活", "recorded_by": "县委组织部"}],
        "rescore": [{"period": month, "reason": "规则复核", "operator": "县委组织部"}],
        "health": [{}],
    }
    if past_months:
        examples["close_month"] = [{"period": key, "closed_by": "县委组织部", "early": False}
                                   for key in past_months]
    if len(past_months) == 4:
        examples["close_quarter"] = [{"period": f"{day.year}-Q3", "closed_by": "县委组织部"}]
    return examples
