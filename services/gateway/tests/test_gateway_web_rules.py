"""The web pages' rules without a server: languages and their texts, the services' refusal
reasons in Chinese, sheet templates as downloads, periods, which board a query means, masked
names, what of a ticket is public, the activity form's payload and errors, safe redirects and
cookies, the SVG chart, and the templates themselves (a label for every field, the lang
attribute, escaping, no inline script or style, colour contrast, focus rings)."""
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from marshmallow import ValidationError, fields, validate
from marshmallow.schema import Schema

from services.affairs.procedure import STATUSES as MATTER_STATUSES
from services.gateway.roles import ROLES
from services.gateway.web import charts, console, forms, i18n, pages, rules
from services.tickets.lifecycle import ACTIONS as TICKET_ACTIONS, LEVELS, STATUSES
from shared import inputs
from shared.contracts.members import ACTIVITY_KINDS

WEB = Path(pages.__file__).parent


# -- languages ---------------------------------------------------------------------------------

def test_chinese_first_english_when_asked_or_remembered():
    assert i18n.choose(None, None) == "zh"
    assert i18n.choose("en", None) == "en"
    assert i18n.choose(None, "en") == "en"
    assert i18n.choose("zh", "en") == "zh"            # the URL wins over the cookie
    assert i18n.choose("fr", "xx") == "zh"
    t = i18n.words("en")
    assert t("board.title") == "Star ranking board" and t.lang == "en"
    assert i18n.text("zh", "level", n=3) == "3 星"
    assert i18n.text("en", "no.such.key") == "no.such.key"
    assert i18n.label("zh", "tstatus", "accepted") == "已接单"
    assert i18n.label("en", "tstatus", "something_new") == "something_new"


def test_every_text_has_both_languages_and_every_code_shown_has_words():
    for key, (zh, en) in i18n.TEXT.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)) or \
            key.startswith("period."), key
    wanted = ([f"kind.{k}" for k in rules.SUBJECT_KINDS]
              + [f"akind.{k}" for k in ACTIVITY_KINDS]
              + [f"mkind.{k}" for k in rules.MEETING_KINDS]
              + [f"activity.{f}" for f in rules.ACTIVITY_FIELD_NAMES]
              + [f"tstatus.{s}" for s in STATUSES] + [f"tlevel.{level}" for level in LEVELS]
              + [f"taction.{a}" for a in ("open", *TICKET_ACTIONS)]
              + [f"status.{s}" for s in MATTER_STATUSES] + [f"role.{r}" for r in ROLES]
              + [f"pub.kind.{k}" for k in ("resolution", "implementation")])
    assert [key for key in wanted if key not in i18n.TEXT] == []


def test_every_text_a_template_names_exists():
    named = set()
    for template in (WEB / "templates").glob("*.html"):
        named |= set(re.findall(r"""\bt\(\s*["']([\w.]*\w)["']""", template.read_text()))
    assert named and sorted(named - set(i18n.TEXT)) == []


# -- the services' reasons in Chinese ------------------------------------------------------------

def test_the_services_reasons_are_put_into_chinese_keeping_their_numbers_and_values():
    zh = lambda message: i18n.reason("zh", message)       # noqa: E731
    assert zh("Missing data for required field.") == "必填项"
    assert zh("Not a valid integer.") == "应为整数"
    assert zh("is required") == "必填"
    assert zh("must be a positive whole number") == "应为正整数"
    assert zh("Must be one of: meeting, study.") == "应为以下之一：meeting, study"
    assert zh("Length must be between 1 and 200.") == "长度应为 1 到 200 个字符"
    assert zh("Must be greater than or equal to 3.") == "应大于或等于 3"
    assert zh("Must be greater than 0 and less than or equal to 24.") == "应大于 0 且小于或等于 24"
    assert zh("must be a whole number from 0 to 3650") == "应为 0 到 3650 之间的整数"
    assert zh("must be more than 0 and at most 24") == "应大于 0 且不超过 24"
    assert zh("10 present is more than the 9 members") == "实到 10 人，多于应到的 9 人"
    assert zh("required for kind volunteer_service") == "“志愿服务”活动必填"
    assert zh("cannot accept a ticket that is in progress") == "“办理中”状态的工单不能接单"
    assert zh("organisation unit 12 is outside your scope (unit 3)") == \
        "组织单位 12 不在您的管辖范围（单位 3）内"
    assert zh("role village_cadre does not grant talent.write") == \
        "村干部的角色没有“talent.write”权限"
    assert zh("matter 5 is completed (since 2026-11-01): no further steps") == \
        "事项 5 已办结（2026-11-01），不能再登记步骤"
    assert zh("  is required ") == "必填"                  # as the service spaced it
    assert zh("the moon is not a branch") == "the moon is not a branch"   # unknown: as it came
    assert zh("Must be one of: a.\nx") == "Must be one of: a.\nx"        # the whole message only
    assert zh(None) == ""
    assert i18n.reason("en", "Missing data for required field.") == \
        "Missing data for required field."


def _marshmallow_messages():
    """What marshmallow says for the fields and validators the services' schemas use."""
    messages = set(Schema.error_messages.values()) | {Schema._default_error_messages["unknown"]}
    for cls in (fields.Field, fields.String, fields.Number, fields.Integer, fields.Float,
                fields.Decimal, fields.Boolean, fields.Date, fields.List, fields.Dict,
                fields.Email, fields.URL, fields.UUID, inputs.Text, inputs.Integer, inputs.Id):
        for klass in reversed(cls.__mro__):
            for key, text in getattr(klass, "default_error_messages", {}).items():
                if key not in ("invalid_awareness", "format", "fit"):
                    messages.add(text.format(min=1, max=200, found="U+0000", input="x",
                                             obj_type=getattr(cls, "OBJ_TYPE", "date")))
    for check, value in ((validate.Range(min=0), -1), (validate.Range(max=5), 9),
                         (validate.Range(min=1, max=5), 9),
                         (validate.Range(min=0, min_inclusive=False), 0),
                         (validate.Length(min=1, max=200), ""), (validate.Length(min=2), ""),
                         (validate.Length(max=1), "ab"), (validate.Length(equal=4), "a"),
                         (validate.OneOf(("meeting", "study")), "x"),
                         (validate.ContainsOnly(("a", "b")), ["c"]), (validate.Equal(3), 4),
                         (validate.Regexp(r"\d+"), "x")):
        with pytest.raises(ValidationError) as refused:
            check(value)
        messages.update(refused.value.messages)
    return messages


def test_every_message_marshmallow_and_the_input_guards_give_has_chinese_words():
    messages = _marshmallow_messages() | {
        "must be text", "must be true or false", "must be a date like 2026-11-26",
        "must be a positive whole number (an id)", "must be a whole number up to 9",
        "must be a whole number from 1 to 9", "must be at least 2 characters",
        "at most 2 decimal places", "at most 10 digits before the decimal point",
        "must be one of a, b", "must be one of a, b (found 'c')", "must be a finite number",
        "must be an object (a JSON dictionary)", rules.NOT_WHOLE, rules.REQUIRED,
        rules.sheet_problem("", 0), rules.sheet_problem("a.xls", 1),
        rules.sheet_problem("a.csv", rules.MAX_SHEET_BYTES + 1)}
    untranslated = sorted(m for m in messages if i18n.reason("zh", m) == m)
    assert len(messages) > 40 and untranslated == []
    english = re.compile(r"\b(must|Must|Not|valid|field|than|is|be|or)\b")
    assert [i18n.reason("zh", m) for m in messages if english.search(i18n.reason("zh", m))] == []


def test_a_reason_shows_in_chinese_with_the_original_kept_beside_it():
    context = dict(PAGES["console_form.html"], errors={
        "votes_for": ["must be a whole number (0 or more)"],
        "step": ["<b>new</b> rule nobody translated"]})
    html = render("console_form.html", **context)
    error = re.search(r'<p class="error" id="votes_for-error">(.*?)</p>', html).group(1)
    assert "应为整数（0 或以上）" in error
    assert 'title="must be a whole number (0 or more)"' in error
    unknown = re.search(r'<p class="error" id="step-error">(.*?)</p>', html).group(1)
    assert 'lang="en"' in unknown and "&lt;b&gt;new&lt;/b&gt; rule nobody translated" in unknown
    summary = re.search(r'<div class="notice bad"[^>]*id="error-summary".*?</div>', html, re.S)
    assert 'href="#votes_for"' in summary.group(0) and "应为整数" in summary.group(0)
    assert "autofocus" in summary.group(0)
    english = render("console_form.html", lang="en", **context)
    assert "must be a whole number (0 or more)</p>" in english and "应为整数" not in english
    rows = render("upload.html", **dict(PAGES["upload.html"], rows=[
        (3, "kind", "Must be one of: meeting, study.")]))
    assert "应为以下之一：meeting, study" in rows and 'title="Must be one of: meeting, study."' in rows


# -- sheet templates -----------------------------------------------------------------------------

def test_a_sheet_template_is_a_csv_excel_opens_with_a_chinese_file_name():
    header = "resident_id,kind,occurred_on\r\n".encode()
    assert rules.excel_csv(header) == b"\xef\xbb\xbf" + header
    assert rules.excel_csv(rules.excel_csv(header)) == b"\xef\xbb\xbf" + header   # once
    sheet = rules.SHEET_TEMPLATES["activities"]
    disposition = rules.attachment(sheet.filename, sheet.fallback)
    assert disposition.startswith('attachment; filename="activity-sheet-template.csv"; ')
    assert disposition.endswith("filename*=UTF-8''%E5%85%9A%E5%91%98%E6%B4%BB%E5%8A%A8%E8%A1%A8"
                                "%E6%A8%A1%E6%9D%BF.csv")
    assert rules.attachment("a b.csv", 'x"y\n.csv') == \
        "attachment; filename=\"xy.csv\"; filename*=UTF-8''a%20b.csv"
    assert set(rules.SHEET_TEMPLATES) == set(rules.SHEET_KINDS)
    assert rules.console_template("templates/members.csv") == "members"
    assert rules.console_template("templates/../x.csv") is None
    assert rules.console_template("uploads") is None
    assert rules.console_unit("units/12") == 12 and rules.console_unit("/units/12/") == 12
    assert rules.console_unit("units/0") is None and rules.console_unit("units/x") is None
    html = render("upload.html", **PAGES["upload.html"])
    links = re.findall(r'<a href="(/console/templates/\w+\.csv)"[^>]*>([^<]*)</a>', html)
    assert links == [("/console/templates/activities.csv", "下载党员活动表模板（CSV）"),
                     ("/console/templates/members.csv", "下载党员名册模板（CSV）")]


# -- periods and boards --------------------------------------------------------------------------

def test_periods_are_months_quarters_and_years():
    assert rules.parse_period("2026-11") == rules.Period("2026-11", "month", 2026, 11)
    assert rules.parse_period("２０２６-q4").key == "2026-Q4"      # full-width, lower case
    assert rules.parse_period("2026").kind == "year"
    for bad in ("2026-13", "2026-Q5", "26-11", "1899", "", None, "2026-11; drop"):
        assert rules.parse_period(bad) is None, bad
    assert rules.period_label("zh", "2026-11") == "2026年11月"
    assert rules.period_label("en", "2026-11") == "November 2026"
    assert rules.period_label("zh", "2026-Q4") == "2026年第4季度"
    assert rules.period_label("en", "2026") == "2026"


def test_the_periods_offered_go_back_across_the_year():
    offered = rules.period_choices(date(2026, 2, 10))
    assert offered["month"][:3] == ["2026-02", "2026-01", "2025-12"] and len(offered["month"]) == 12
    assert offered["quarter"] == ["2026-Q1", "2025-Q4", "2025-Q3", "2025-Q2"]
    assert offered["year"] == ["2026", "2025", "2024"]
    older = rules.period_choices(date(2026, 2, 10), chosen="2023-05")
    assert "2023-05" in older["month"] and older["month"][-1] == "2023-05"
    assert rules.period_choices(date(2026, 2, 10), chosen="junk") == offered


def test_a_query_names_a_board_and_anything_else_falls_back():
    kinds = {2: "township_committee", 12: "village_branch", 1: "city_committee"}.get
    today = date(2026, 11, 27)
    assert rules.board_of({}, today, kinds) == rules.Board("member", "county", None, "2026-11")
    assert rules.board_of({"kind": "member", "unit": "12", "period": "2026-Q3"}, today, kinds) == \
        rules.Board("member", "branch", 12, "2026-Q3")
    assert rules.board_of({"kind": "branch", "unit": "2"}, today, kinds) == \
        rules.Board("branch", "township", 2, "2026-11")
    # a branch board within a branch, a committee board within a township: the county
    assert rules.board_of({"kind": "branch", "unit": "12"}, today, kinds).scope == "county"
    assert rules.board_of({"kind": "committee", "unit": "2"}, today, kinds).scope == "county"
    for unit in ("1", "999", "-3", "x", "１２", "9" * 30):
        assert rules.board_of({"unit": unit}, today, kinds).unit_id is None, unit
    assert rules.board_of({"kind": "nobody", "period": "soon"}, today, kinds) == \
        rules.Board("member", "county", None, "2026-11")


def test_names_are_masked_and_levels_drawn():
    assert rules.masked_name("王小明") == "王＊＊"
    assert rules.masked_name("李四") == "李＊"
    assert rules.masked_name("欧") == "欧"
    assert rules.masked_name("Anna Li") == "A*****"
    assert rules.masked_name(None) == rules.masked_name("") == "＊"
    assert rules.star_glyphs(3) == "★★★☆☆"
    assert rules.star_glyphs(9) == "★★★★★" and rules.star_glyphs(None) == "☆☆☆☆☆"


def test_a_matters_steps_read_the_same_from_the_matter_and_from_its_public_record():
    power = {"steps": {"joint_meeting": {"name": "两委联席会议"}, "resolution_published":
                       {"name": "决议公开"}}, "meetings": {"joint_meeting": {"name": "联席会议"}}}
    live = [{"step": "joint_meeting", "on": "2026-08-24", "outcome": "adopted",
             "form": "joint_meeting", "attendance": {"members": 9, "present": 8},
             "votes": {"for": 7, "against": 1, "abstain": 0}, "superseded": False},
            {"step": "resolution_published", "on": "2026-09-04", "outcome": "recorded",
             "form": None, "attendance": None, "votes": None, "superseded": False}]
    published = [{"step": "joint_meeting", "name": "x", "on": "2026-08-24", "outcome": "adopted",
                  "form": "joint_meeting", "members": 9, "present": 8, "for": 7, "against": 1,
                  "abstain": 0},
                 {"step": "resolution_published", "name": "决议公开", "on": "2026-09-04",
                  "outcome": "recorded", "form": None, "members": None, "present": None,
                  "for": None, "against": None, "abstain": None}]
    rows = rules.step_rows(live, power)
    assert rows == rules.step_rows(published, power)
    assert rows[0] == {"name": "两委联席会议", "form": "联席会议", "on": "2026-08-24",
                       "outcome": "adopted", "attendance": "9 / 8", "votes": "7 / 1 / 0",
                       "superseded": False}
    assert (rows[1]["attendance"], rows[1]["votes"]) == ("", "")


def test_a_record_is_ok_broken_or_beyond_the_break():
    holds = {"holds": True, "broken_at": None}
    broken = {"holds": False, "broken_at": 2}
    assert pages.record_state(holds, 5) == "ok"
    assert [pages.record_state(broken, n) for n in (1, 2, 3)] == ["ok", "broken", "after"]


# -- tickets -------------------------------------------------------------------------------------

def test_a_ticket_number_as_typed():
    assert rules.ticket_number("123") == 123
    assert rules.ticket_number(" ＃１２３ ") == 123
    assert rules.ticket_number("#7") == 7
    for bad in ("", "abc", "0", "-1", "1.5", "1" * 19, None, "١٢"):
        assert rules.ticket_number(bad) is None, bad


def test_the_public_sees_no_one_in_a_ticket():
    ticket = {"id": 5, "matter_code": "certificate", "status": "accepted", "level": "village",
              "requester_name": "刘大爷", "requester_phone": "13800000000", "address": "村东头",
              "description": "开证明", "agent_id": 3, "opened_on": "2026-11-20",
              "due_on": "2026-11-24", "resolved_on": None, "breached": False, "escalations": 0,
              "history": [{"at": "2026-11-20T09:00:00+08:00", "action": "open", "by": "王干部",
                           "note": "刘大爷来电", "to_status": "open", "level": "village"}]}
    shown = rules.public_ticket(ticket)
    text = repr(shown)
    assert "刘大爷" not in text and "138" not in text and "王干部" not in text and "村东头" not in text
    assert shown["status"] == "accepted" and shown["history"][0]["action"] == "open"
    assert shown["history"][0]["at"] == "2026-11-20 09:00"


def test_moments_are_shown_in_china_time():
    assert rules.china_time("2026-11-27T01:24:05.123Z") == "2026-11-27 09:24"
    assert rules.china_time("2026-11-27T17:00:00") == "2026-11-28 01:00"       # naive: UTC
    assert rules.china_time("2026-11-27T09:00:00+08:00") == "2026-11-27 09:00"
    assert rules.china_time("soon") == "soon" and rules.china_time(None) == ""


# -- the activity form -----------------------------------------------------------------------------

def test_the_form_becomes_the_payload_as_typed():
    form = {"member_id": " 42 ", "kind": "meeting", "occurred_on": "2026-11-20", "hours": "",
            "meeting_kind": "party_lesson", "attended": "true", "amount": "  ", "csrf": "x",
            "idempotency_key": "k"}
    assert rules.activity_payload(form) == {"member_id": "42", "kind": "meeting",
                                            "occurred_on": "2026-11-20",
                                            "meeting_kind": "party_lesson", "attended": True}
    assert rules.activity_payload({"attended": "false"}) == {"attended": False}
    assert rules.activity_payload({"attended": "maybe"}) == {"attended": "maybe"}


def test_the_services_errors_go_next_to_their_fields():
    by_field, rest = rules.split_errors({"hours": ["must be more than 0 and at most 24"],
                                         "payload.member_id": ["required"],
                                         "_schema": ["something else"], "colour": ["unknown"]})
    assert by_field == {"hours": ["must be more than 0 and at most 24"],
                        "member_id": ["required"]}
    assert rest == [("_schema", "something else"), ("colour", "unknown")]


# -- the console's session -----------------------------------------------------------------------

def test_after_logging_in_only_console_pages_of_this_site():
    assert rules.safe_next("/console/activities") == "/console/activities"
    assert rules.safe_next("/console?x=1") == "/console?x=1"
    for bad in ("https://evil.example/console", "//evil.example", "/console//evil", "/consoles",
                "/console\\evil", "/console/\nSet-Cookie:x", "/boards", None, ""):
        assert rules.safe_next(bad) == "/console", bad


def test_cookies_are_http_only_strict_and_secure_over_https():
    assert rules.cookie_options("http://127.0.0.1:8000") == {
        "httponly": True, "samesite": "Strict", "path": "/", "secure": False}
    assert rules.cookie_options("https://jiceng.example.org", "/console")["secure"] is True
    assert rules.same_token("abc", "abc") and not rules.same_token("abc", "abd")
    assert not rules.same_token("", "") and not rules.same_token(None, "x")


# -- the chart -----------------------------------------------------------------------------------

def test_bars_are_proportional_and_a_chart_of_zeros_is_flat():
    drawn = charts.bars([("0", 10), ("1", 5), ("2", 0)], height=180, top=20, bottom=28)
    assert [bar.height for bar in drawn] == [132.0, 66.0, 0.0]
    assert drawn[0].y + drawn[0].height == drawn[1].y + drawn[1].height == 152
    assert len({bar.width for bar in drawn}) == 1 and drawn[0].x < drawn[1].x < drawn[2].x
    assert all(bar.height == 0 for bar in charts.bars([("a", 0), ("b", 0)]))
    assert charts.bars([]) == []


def test_the_chart_is_an_accessible_svg_with_every_number():
    svg = str(charts.bar_chart([("0 星", 3), ("<5>", 1)], "标题 <x>", "数量：0 星 3", "c"))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c-t c-d"' in svg
    assert "<title id=\"c-t\">标题 &lt;x&gt;</title>" in svg and "&lt;5&gt;" in svg
    assert ">3</text>" in svg and ">1</text>" in svg and "<script" not in svg


# -- the templates ---------------------------------------------------------------------------------

class Fields(HTMLParser):
    """The page's lang, ids, labels' targets, form fields, scripts and inline styles."""

    def __init__(self):
        super().__init__()
        self.lang, self.ids, self.labels, self.fields = None, [], set(), []
        self.scripts = self.styles = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "label":
            self.labels.add(attrs.get("for"))
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.fields.append(attrs.get("id"))
        self.scripts += tag == "script" and not attrs.get("src", "").startswith("/static/")
        self.styles += "style" in attrs or tag == "style"


def render(template, lang="zh", **context):
    return pages.ENV.get_template(template).render(
        t=i18n.words(lang), lang=lang, html_lang=i18n.HTML_LANG[lang], switch_url="/x?lang=en",
        request_id="r-1", caller=context.pop("caller", None),
        label=lambda prefix, code: i18n.label(lang, prefix, code),
        period_label=lambda key: rules.period_label(lang, key), **context)


POWER = {"steps": {"proposal": {"name": "村党组织提议"}}, "meetings": {}}
MATTER = {"id": 7, "title": "<script>alert(1)</script>修路", "item": "major_spending",
          "item_name": "村级重大财务支出", "amount": "86000.00", "status": "resolved",
          "proposed_on": "2026-08-19", "execution_percent": None, "description": None,
          "steps": [{"step": "proposal", "on": "2026-08-19", "outcome": "adopted", "form": None,
                     "attendance": {"members": 5, "present": 5},
                     "votes": {"for": 5, "against": 0, "abstain": 0}, "superseded": False}],
          "publications": [{"seq": 1, "kind": "resolution", "published_on": "2026-09-04",
                            "notice_days": 7, "record_hash": "ab" * 32, "state": "broken"}]}
TICKETS_PANEL = console.Panel(
    counts=[(state, 1) for state in rules.TIME_LIMIT_STATES],
    urgent=[{"id": 5, "matter_code": "certificate", "status": "open", "due_on": "2026-11-20"}],
    measures={"opened": 3, "resolved": 1}, shares=[("按时办结率", 100.0), ("满意率", None)],
    chart=charts.bar_chart([("按时办结率", 100.0)], "t", "d", "measures"))
MATTERS_PANEL = console.Panel(counts=[("deliberating", 1)], total=1, matters=[
    {"id": 7, "title": "<b>修路</b>", "village": "前辛庄", "status": "deliberating",
     "proposed_on": "2026-11-01"}])
STARS_PANEL = console.Panel(kind="branch", levels=[("0 星", 2)], trend=[("2026年11月", 3.0)],
                            chart=charts.bar_chart([("0 星", 2)], "t", "d", "levels"),
                            trend_chart=charts.line_chart([("11", 3.0)], "t", "d", "trend"))
PAGES = {
    "board.html": dict(board=rules.Board("member", "county", None, "2026-11"),
                       entries=[{"rank": 1, "name": "张＊＊", "branch": "前辛庄", "level": 2,
                                 "score": "3.00", "tied": False}],
                       official=False, levels=[("0 星", 1)], chart=charts.bar_chart(
                           [("0 星", 1)], "t", "d", "distribution"), unit=None,
                       townships=[{"id": 2, "name": "旧城镇"}], branches=[],
                       periods=rules.period_choices(date(2026, 11, 27)),
                       kinds=rules.SUBJECT_KINDS, caption="全县党员排名"),
    "village.html": dict(branch_id=12, village="前辛庄村", matters=[MATTER], power=POWER,
                         verdict={"holds": False, "records": 1, "head": "cd" * 32,
                                  "broken_at": 1, "reason": "record 1 was changed"}),
    "ticket.html": dict(number="abc", error="请输入数字编号", ticket=None),
    "login.html": dict(message="用户名或密码错误。", errors={"password": ["必填"]},
                       username="clerk", next_page="/console"),
    "activity.html": dict(values={"hours": "30"}, errors={"hours": ["at most 24"]},
                          rest=[("_schema", "x")], fields=rules.ACTIVITY_FIELDS, csrf="c",
                          idempotency_key="k"),
    "console.html": dict(caller={"user": "clerk", "role": "township_staff",
                                 "scope_unit_id": 2}, csrf="c",
                         scope={"id": 2, "name": "旧城镇", "kind": "township_committee"},
                         can_record=True, can_affairs=True, can_tickets=True, view="township",
                         month="2026-11", tickets=TICKETS_PANEL, matters=MATTERS_PANEL,
                         stars=STARS_PANEL),
    "console_form.html": dict(prefix="stepform", action="/console/steps",
                              fields=rules.STEP_FIELDS, values={"votes_for": "x"},
                              errors={"votes_for": ["must be a whole number (0 or more)"]},
                              rest=[("_schema", "x")], choices={"step": [("proposal", "提议")]},
                              csrf="c", idempotency_key="k"),
    "upload.html": dict(values={"kind": "activities"}, errors={"file": ["bad"]}, rest=[],
                        choices={"kind": [("activities", "活动")], "branch_id": [(12, "前辛庄")]},
                        rows=[(3, "kind", "must be one of ...")], imported=None, filename=None,
                        templates=["activities", "members"], csrf="c", idempotency_key="k"),
    "home.html": dict(townships=[{"id": 2, "name": "旧城镇党委", "villages": [
        {"id": 12, "name": "前辛庄村党支部"}]}]),
    "error.html": dict(message="没有找到"),
}


@pytest.mark.parametrize("template", sorted(PAGES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_field_has_a_label_ids_are_unique_and_nothing_inline(template, lang):
    html = render(template, lang, **dict(PAGES[template]))
    found = Fields()
    found.feed(html)
    assert found.lang == i18n.HTML_LANG[lang]
    assert [field for field in found.fields if field not in found.labels] == []
    assert len(found.ids) == len(set(found.ids)), sorted(found.ids)
    assert found.scripts == 0 and found.styles == 0      # the CSP allows neither inline
    assert 'href="#main"' in html and 'id="main"' in html


def test_the_services_text_is_escaped_and_errors_are_tied_to_their_fields():
    village = render("village.html", **PAGES["village.html"])
    assert "<script>alert" not in village and "&lt;script&gt;alert(1)" in village
    assert 'data-holds="false"' in village and 'data-state="broken"' in village
    form = render("activity.html", **PAGES["activity.html"])
    hours = re.search(r'<input id="hours"[^>]*>', form).group(0)
    assert 'aria-invalid="true"' in hours and "hours-error" in hours and 'value="30"' in hours
    assert 'id="hours-error"' in form and 'href="#hours"' in form


def _luminance(colour):
    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one, two):
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_have_at_least_aa_contrast():
    css = (WEB / "static" / "site.css").read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [(var["ink"], var["paper"]), (var["muted"], var["paper"]),
             ("#ffffff", var["red"]), ("#ffffff", var["red-dark"]), (var["red-dark"], var["paper"]),
             (var["green"], var["green-bg"]), ("#6b0000", var["bad-bg"]), ("#8b0000", "#ffffff"),
             (var["ink"], var["info-bg"]), (var["muted"], var["info-bg"]),
             (charts.INK, "#ffffff"), (charts.BAR, "#ffffff")]
    low = [(a, b, round(contrast(a, b), 2)) for a, b in pairs if contrast(a, b) < 4.5]
    assert low == []
    assert contrast(var["ink"], var["paper"]) >= 7


def test_everything_the_keyboard_reaches_shows_a_focus_ring():
    css = (WEB / "static" / "site.css").read_text()
    assert re.search(r"(^|\n):focus-visible \{ outline: 3px solid var\(--focus\)", css)
    assert re.search(r"#error-summary:focus[^{]*\{ outline: 3px solid", css)
    hidden = re.findall(r"([^{}\n]+)\{[^}]*outline: (?:none|0)", css)
    assert [rule.strip() for rule in hidden] == ["main:focus"]     # main is only a skip target
    assert contrast("#1d4ed8", "#ffffff") >= 3 and contrast("#1d4ed8", "#fdecec") >= 3


# -- the console's views ---------------------------------------------------------------------------

def test_each_user_gets_the_view_of_their_scope():
    assert rules.console_view(None, True) == "county"
    assert rules.console_view("township_committee", False) == "township"
    assert rules.console_view("street_committee", False) == "township"
    assert rules.console_view("village_branch", False) == "branch"


def test_tickets_are_sorted_by_where_they_stand_against_their_time_limit():
    today = date(2026, 11, 27)
    tickets = [{"id": 1, "status": "open", "due_on": "2026-11-26"},
               {"id": 2, "status": "accepted", "due_on": "2026-11-28"},
               {"id": 3, "status": "in_progress", "due_on": "2026-12-10"},
               {"id": 4, "status": "waiting", "due_on": "2026-11-01", "paused_on": "2026-10-30"},
               {"id": 5, "status": "resolved", "due_on": "2026-11-01", "breached": True},
               {"id": 6, "status": "open", "due_on": "2026-12-10", "breached": True},
               {"id": 7, "status": "open", "due_on": None}]
    grouped = rules.tickets_by_time_limit(tickets, today)
    assert {state: [t["id"] for t in found] for state, found in grouped.items()} == {
        "breached": [1, 6], "due_soon": [2], "on_track": [3, 7], "paused": [4], "done": [5]}
    assert list(rules.tickets_by_time_limit([], today)) == list(rules.TIME_LIMIT_STATES)


def test_matters_in_progress_are_counted_oldest_first():
    counts, found = rules.matters_in_progress([
        {"id": 3, "status": "executing", "proposed_on": "2026-10-01"},
        {"id": 1, "status": "completed", "proposed_on": "2026-01-01"},
        {"id": 2, "status": "deliberating", "proposed_on": "2026-09-01"},
        {"id": 4, "status": "ended", "proposed_on": "2026-02-01"}])
    assert counts == {"deliberating": 1, "resolved": 0, "executing": 1}
    assert [m["id"] for m in found] == [2, 3]


def test_levels_months_and_shares_for_the_panels():
    assert rules.level_counts([{"level": 2}, {"level": 2}, {"level": 0}, {"level": 9}]) == [
        (0, 1), (1, 0), (2, 2), (3, 0), (4, 0), (5, 1)]
    assert rules.recent_months(date(2026, 2, 10), 4) == ["2025-11", "2025-12", "2026-01",
                                                         "2026-02"]
    assert rules.month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert rules.month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    with pytest.raises(ValueError):
        rules.month_bounds("2026-Q4")
    assert rules.percent("0.8333") == 83.3 and rules.percent(1) == 100.0
    assert rules.percent(None) is None and rules.percent("x") is None
    assert console.short_name("旧城镇党委") == "旧城镇" and console.short_name("党委") == "党委"


def test_the_trend_is_an_accessible_svg_line_through_every_month():
    found = charts.points([("09", 0), ("10", 5), ("11", 10)], width=320, height=180)
    assert [p.x for p in found] == [24, 160, 296]
    assert found[2].y == 20 and found[0].y == 152          # the largest on top, 0 on the base
    assert all(p.y == 152 for p in charts.points([("a", 0), ("b", 0)]))
    svg = str(charts.line_chart([("09", 0), ("10", 2.5), ("<11>", 10)], "走势", "d", "trend"))
    assert 'role="img"' in svg and 'aria-labelledby="trend-t trend-d"' in svg
    assert "<polyline" in svg and ">2.5</text>" in svg and ">10</text>" in svg
    assert "&lt;11&gt;" in svg and "<script" not in svg
    assert "<polyline" not in str(charts.line_chart([("11", 1)], "t", "d", "one"))


# -- the console's forms ---------------------------------------------------------------------------

def test_a_step_form_becomes_record_steps_payload():
    matter_id, payload, errors = rules.step_payload({
        "matter_id": "７", "step": "party_assembly", "on": "2026-11-20", "form": "",
        "attendance_members": "40", "attendance_present": "30", "votes_for": "25",
        "votes_against": "3", "votes_abstain": "2", "notice_days": "", "note": " 按时召开 "},
        "clerk")
    assert errors == {} and matter_id == 7
    assert payload == {"recorded_by": "clerk", "step": "party_assembly", "on": "2026-11-20",
                       "note": "按时召开", "attendance": {"members": 40, "present": 30},
                       "votes": {"for": 25, "against": 3, "abstain": 2}}


def test_a_step_form_refuses_what_cannot_be_sent_naming_each_field():
    matter_id, payload, errors = rules.step_payload({
        "matter_id": "", "attendance_members": "40", "votes_for": "many", "notice_days": "-1"},
        "clerk")
    assert matter_id is None and errors["matter_id"] == [rules.REQUIRED]
    assert errors["votes_for"][0] == rules.NOT_WHOLE and errors["notice_days"] == [rules.NOT_WHOLE]
    assert "attendance_present" in errors and "votes_against" in errors
    assert "attendance" not in payload and "votes" not in payload
    assert rules.step_payload({"matter_id": "abc"}, "u")[2]["matter_id"] == [
        "must be a positive whole number"]


def test_the_services_step_errors_go_next_to_the_forms_fields():
    by_field, rest = rules.form_errors(
        {"payload.attendance.present": ["45 present is more than the 40 members"],
         "votes": ["40 votes cast is more than the 30 present"], "step": ["unknown step"],
         "payload.evidence.0.sha256": ["bad"]}, rules.STEP_FIELD_NAMES, rules.STEP_FIELD_OF)
    assert by_field == {"attendance_present": ["45 present is more than the 40 members"],
                        "votes_for": ["40 votes cast is more than the 30 present"],
                        "step": ["unknown step"]}
    assert rest == [("evidence.0.sha256", "bad")]


def test_ticket_forms_become_their_payloads():
    assert rules.ticket_payload({"service_point_id": "3", "matter_code": "certificate",
                                 "requester_name": " 刘大爷 ", "requester_phone": "",
                                 "csrf": "x"}) == {
        "service_point_id": 3, "matter_code": "certificate", "requester_name": "刘大爷"}
    assert rules.ticket_payload({"service_point_id": "three"})["service_point_id"] == "three"
    assert rules.escalation({"ticket_id": "#12", "reason": "超出村级权限", "note": ""}) == (
        12, {"reason": "超出村级权限"}, {})
    assert rules.escalation({"reason": "x"})[2] == {"ticket_id": [rules.REQUIRED]}


def test_a_sheet_is_checked_before_it_is_sent_and_its_row_errors_are_a_table():
    assert rules.sheet_problem("", 0) == "choose a CSV or XLSX file"
    assert rules.sheet_problem("活动.xls", 10) == "must be a .csv or .xlsx file"
    assert "larger than 5 MB" in rules.sheet_problem("a.csv", rules.MAX_SHEET_BYTES + 1)
    assert rules.sheet_problem("活动.XLSX", 10) is None
    rows, by_field, rest = rules.sheet_errors({
        "row 12.kind": ["must be one of: meeting, study"], "row 3.member_id": ["unknown"],
        "row 3.occurred_on": ["not a date"], "content_base64": ["the CSV is not UTF-8 text"],
        "branch_id": ["no such branch"], "_schema": ["x"]})
    assert rows == [(3, "member_id", "unknown"), (3, "occurred_on", "not a date"),
                    (12, "kind", "must be one of: meeting, study")]
    assert by_field == {"file": ["the CSV is not UTF-8 text"], "branch_id": ["no such branch"]}
    assert rest == [("_schema", "x")]


def test_every_console_form_field_and_choice_has_words():
    for prefix, (action, fields) in forms.FORMS.items():
        assert action.startswith("/console/") and action[len("/console/"):] in forms.SECTIONS
        for name, kind, required, hint in fields:
            words = i18n.text("zh", f"{prefix}.{name}")
            assert words != f"{prefix}.{name}" and words.endswith(" *") == required, name
            assert hint is None or hint in i18n.TEXT, hint
    wanted = ([f"tlimit.{s}" for s in rules.TIME_LIMIT_STATES]
              + [f"upload.kind.{k}" for k in rules.SHEET_KINDS]
              + [f"measure.{m}" for m in ("on_time", "settled_in_village",
                                          "settled_in_township", "satisfied")])
    assert [key for key in wanted if key not in i18n.TEXT] == []


def test_the_upload_form_is_sent_with_its_progress_shown_and_works_without_script():
    html = render("upload.html", **PAGES["upload.html"])
    assert 'enctype="multipart/form-data"' in html and 'action="/console/uploads"' in html
    assert '<progress id="upload-progress"' in html and 'aria-live="polite"' in html
    assert '<script src="/static/upload.js" defer></script>' in html
    assert 'id="row-errors"' in html and "must be one of ..." in html
    script = (WEB / "static" / "upload.js").read_text()
    assert 'upload.addEventListener("progress"' in script and "preventDefault" in script


def test_an_unknown_console_section_is_not_found():
    from shared.errors import NotFound
    with pytest.raises(NotFound):
        forms.section(object(), "nowhere")


def test_the_county_view_compares_the_townships_in_a_table_and_two_charts():
    rows = [{"id": 2, "name": "旧城镇党委", "score": "12.5", "level": 2, "rank": 1, "opened": 4,
             "resolved": 3, "on_time": 66.7, "matters": 5},
            {"id": 3, "name": "南排河镇党委", "score": None, "level": None, "rank": None,
             "opened": None, "resolved": None, "on_time": None, "matters": None}]
    county = console.Panel(rows=rows, matters_known=False,
                           titles={"scores": "积分", "on_time": "按时"},
                           scores=charts.bar_chart([("旧城镇", 12.5)], "积分", "d", "scores"),
                           on_time=charts.bar_chart([("旧城镇", 66.7)], "按时", "d", "on-time"))
    html = render("console.html", caller={"user": "admin", "role": "county_admin",
                                          "scope_unit_id": None},
                  csrf="c", scope=None, can_record=True, can_affairs=True, can_tickets=True,
                  view="county", month="2026-11", county=county)
    table = re.search(r'<table id="townships">.*?</table>', html, re.S).group(0)
    assert "旧城镇党委" in table and "66.7 %" in table and "12.5" in table and "—" in table
    assert html.count('<svg') == 2 and "村务事项数量暂不能显示" in html
    refused = console.Panel()
    refused.problem = "此部分暂不能显示：x"
    html = render("console.html", caller={"user": "admin", "role": "county_admin",
                                          "scope_unit_id": None},
                  csrf="c", scope=None, can_record=False, can_affairs=False, can_tickets=False,
                  view="county", month="2026-11", county=refused)
    assert "此部分暂不能显示：x" in html and 'id="townships"' not in html
