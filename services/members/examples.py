"""Valid calls of the members RPCs for the shared input fuzz suite (``ServiceBase.rpc_examples``).

Builds a small county through the RPCs (a city committee, two townships, branches, members, an
activity to revoke and one to correct, a volunteer team, a candidate) and returns one or more
valid calls per RPC. An RPC that changes its subject for good (leaving, transferring, dissolving,
revoking, correcting, renaming, moving) gets a subject of its own.
"""
import base64
from datetime import date, timedelta

from services.members import resident_id, roster


def _day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def _person(branch_id, number, gender="male", born=date(1980, 5, 17), **extra):
    return {"name": f"示例党员{number}", "gender": gender, "ethnicity": "汉族",
            "birth_date": born.isoformat(),
            "resident_id": resident_id.make("130983", born, number, gender),
            "phone": "13812345678", "education": "senior_secondary", "join_date": "2005-07-01",
            "status": "full", "household_plaque": False, "branch_id": branch_id, **extra}


def _xlsx(rows) -> bytes:
    import io

    from openpyxl import Workbook
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rpc_examples(cluster) -> dict[str, list[dict]]:
    rpc = cluster.members

    def unit(name, kind, parent_id):
        return rpc.create_org_unit({"name": name, "kind": kind, "parent_id": parent_id})["id"]

    city = unit("示例市委", "city_committee", None)
    town = unit("示例镇党委", "township_committee", city)
    other_town = unit("示例街道党工委", "street_committee", city)
    village = unit("示例一村党支部", "village_branch", town)
    village2 = unit("示例二村党支部", "village_branch", town)
    renamed, moved, dissolved = (unit(f"示例{n}村党支部", "village_branch", town)
                                 for n in ("三", "四", "五"))

    def member(number, branch=village):
        return rpc.register_member(_person(branch, number))["id"]

    active, transferred, leaving = member(1), member(2), member(3)
    person_for_sheet = _person(village, 1)["resident_id"]
    team = rpc.create_team({"name": "示例志愿服务队", "branch_id": village, "township_id": None,
                            "description": "清扫街道"})["id"]

    def activity(**fields):
        return {"member_id": active, "kind": "study", "occurred_on": _day(3), "attended": True,
                **fields}

    revoked = rpc.record_activity(activity())["id"]
    corrected = rpc.record_activity(activity())["id"]
    applicant = _person(village, 20, gender="female", born=date(1995, 3, 8))
    for key in ("join_date", "status"):
        applicant.pop(key)
    candidate = rpc.apply_for_membership({**applicant, "application_date": _day(60),
                                          "on": _day(60), "by": "支部书记"})["id"]
    new_applicant = {**_person(village, 21, gender="female", born=date(1996, 4, 9)),
                     "application_date": _day(5), "on": _day(5), "by": "支部书记"}
    for key in ("join_date", "status"):
        new_applicant.pop(key)

    csv = ("\ufeffresident_id,kind,occurred_on,attended\r\n"
           f"{person_for_sheet},study,{_day(2)},是\r\n").encode()
    xlsx = _xlsx([["resident_id", "kind", "occurred_on", "hours", "project"],
                  [person_for_sheet, "volunteer_service", _day(2), "1.5", "清扫"]])
    b64 = lambda content: base64.b64encode(content).decode()  # noqa: E731

    def roster_row(number, gender="male"):
        person = _person(village, number, gender=gender)
        return [person[column] for column in roster.COLUMNS]

    roster_csv = "\ufeff" + "\r\n".join(",".join(map(str, row)) for row in (
        roster.COLUMNS, roster_row(30), roster_row(31, "female"))) + "\r\n"
    roster_xlsx = _xlsx([list(roster.COLUMNS), roster_row(32)])

    return {
        "create_org_unit": [{"payload": {"name": "示例六村党支部", "kind": "village_branch",
                                         "parent_id": town}}],
        "rename_org_unit": [{"unit_id": renamed, "name": "示例三村第一党支部"}],
        "move_org_unit": [{"unit_id": moved, "parent_id": other_town}],
        "dissolve_org_unit": [{"unit_id": dissolved, "on": _day(1)}],
        "get_org_unit": [{"unit_id": village}],
        "list_subtree": [{"root_id": city, "include_dissolved": False}],
        "list_townships": [{}],
        "register_member": [{"payload": _person(village, 4)},
                            {"payload": _person(village2, 5, gender="female",
                                                born=date(1990, 2, 28), phone="0317-1234567",
                                                join_date="2012-07-01", status="probationary")}],
        "import_members": [
            {"branch_id": village, "filename": "名册.csv",
             "content_base64": b64(roster_csv.encode())},
            {"branch_id": village2, "filename": "名册.xlsx", "content_base64": b64(roster_xlsx)},
        ],
        "member_sheet_template": [{}],
        "get_member": [{"member_id": active}],
        "list_members": [{"branch_id": village, "state": "active", "offset": 0, "limit": 10}],
        "transfer_member": [{"payload": {"member_id": transferred, "to_branch_id": village2,
                                         "kind": "transfer", "on": _day(1), "note": "工作调动"}}],
        "member_leaves": [{"payload": {"member_id": leaving, "reason": "withdrew",
                                       "on": _day(1), "note": "本人申请"}}],
        "member_history": [{"member_id": transferred}],
        "record_activity": [
            {"payload": activity(kind="volunteer_service", attended=None, hours="2.5",
                                 team_id=team, project="清扫街道")},
            {"payload": activity(kind="donation", attended=None, amount="100.50")},
            {"payload": activity(kind="pairing", attended=None, households=3)},
            {"payload": activity(kind="meeting", meeting_kind="party_lesson")},
        ],
        "import_activities": [
            {"branch_id": village, "filename": "十一月.csv", "content_base64": b64(csv)},
            {"branch_id": village, "filename": "十一月.xlsx", "content_base64": b64(xlsx)},
        ],
        "revoke_activity": [{"activity_id": revoked, "reason": "重复登记"}],
        "correct_activity": [{"activity_id": corrected, "payload": activity(occurred_on=_day(4)),
                              "reason": "日期更正"}],
        "activity_sheet_template": [{}],
        "create_team": [{"payload": {"name": "示例第二志愿服务队", "branch_id": None,
                                     "township_id": town, "description": "关爱老人"}}],
        "create_project": [{"payload": {"team_id": team, "name": "示例项目"}}],
        "list_teams": [{"township_id": town}],
        "apply_for_membership": [{"payload": new_applicant}],
        "record_development_step": [{"candidate_id": candidate, "payload": {
            "step": "recommendation", "on": _day(20), "by": "支部书记",
            "data": {"recommended_by": "group", "recommenders": ["李四", "王五"]}}}],
        "get_candidate": [{"candidate_id": candidate}],
        "list_overdue_development": [{"today": _day(0)}],
        "health": [{}],
    }
