"""The staff console in a real browser (headless Chromium driven by Selenium, as in
``test_gateway_pages``), against members + stars + affairs + tickets + gateway on the real
RabbitMQ and PostgreSQL.

A township clerk logs in and sees the township's console with its three panels (tickets by
time limit, matters in progress, the branches' star levels); fails the matter-step form with a
visible field error (one the page finds, one the affairs service finds); opens a ticket
through the form (after the service names the missing field) and escalates it; uploads an activity
sheet with a bad row and sees the row's error in a table (sent by script, with a progress
bar) and downloads the blank sheet; every service reason reaches the page in Chinese, its
original kept in the title. A village cadre sees their branch's view (its tickets and matters,
no township measures) and is refused, by name, a neighbouring village's view. The county
administrator's console compares the townships; the public landing page lists the townships
and villages. Screenshots are kept under ``test-artifacts/gateway-pages/``."""
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from gateway_http import Client, _up, free_port, known_units
from services.affairs.service import AffairsService
from services.gateway.service import GatewayService
from services.members.service import MembersService
from services.stars.service import StarsService
from services.tickets import models as tickets_models
from services.tickets.service import TicketsService
from shared import migrate
from shared.bus import declare_all
from shared.errors import NotFound
from shared.bus.rpc import rpc_client
from test_gateway_pages import (CERTIFICATE, MEMBER, ago, browser,  # noqa: F401 (fixture)
                                loads, meeting, text_of, the_county)
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration


CLASSES = (MembersService, StarsService, AffairsService, TicketsService, GatewayService)


@pytest.fixture
def site(amqp_uri, pg_url_factory, tmp_path):
    urls = {cls.name: pg_url_factory() for cls in CLASSES}
    for cls in CLASSES:
        migrate.upgrade(cls, urls[cls.name])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = make_config(amqp_uri, urls)
    config["bus"]["declare_topology"] = False
    declare_all(config, {cls.name: cls for cls in CLASSES})
    config.update(WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", max_workers=20,
                  gateway={"services": [cls.name for cls in CLASSES], "token_secret": "s" * 40,
                           "public_base_url": base},
                  affairs={"evidence": {"folder": str(tmp_path / "evidence")}})
    with services_running(config, *CLASSES):
        wait_for(lambda: _up(base), message="the gateway listening")
        client = Client(base, urls["gateway"])
        client.config, client.urls = config, urls
        yield client


def a_ticket_in(site, village):
    """One ticket opened (by the county administrator) at the village's station."""
    store = TicketsService.store.handle(site.urls["tickets"], source="tickets")

    def learned():
        with store.reading() as session:
            return session.get(tickets_models.Unit, village["id"]) is not None
    wait_for(learned, message="tickets learning the village")
    assert site.post("/api/v1/catalogue", CERTIFICATE).status_code == 200
    station = site.post("/api/v1/stations", {"unit_id": village["id"]}).json()
    centre = site.post("/api/v1/stations", {"unit_id": village["parent_id"]})
    assert centre.status_code == 201, centre.text
    opened = site.post("/api/v1/tickets", {"service_point_id": station["id"],
                                           "matter_code": "certificate",
                                           "requester_name": "刘大爷"})
    assert opened.status_code == 201, opened.text
    return opened.json()


def a_matter_in(site, village):
    """A spending matter proposed in the village (by the affairs service's own client)."""
    proposal = {"branch_id": village["id"], "item": "major_spending", "title": "村内主街道硬化",
                "amount": "86000.00", "proposed_on": ago(10), "recorded_by": "王书记",
                **meeting(5, 5, 5)}
    with rpc_client(site.config) as cluster:
        def propose():
            try:
                return cluster.affairs.propose_matter(proposal)
            except NotFound:
                return None
        return wait_for(propose, message="affairs learning the village")


def log_in(browser, site, username):
    browser.get(site.base + "/console")
    assert browser.current_url.startswith(site.base + "/console/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    loads(browser, browser.find_element(By.ID, "login-submit").click)
    assert browser.current_url == site.base + "/console"


def level_count(browser, level_words):
    for row in browser.find_elements(By.CSS_SELECTOR, "#star-levels tbody tr"):
        if row.find_element(By.TAG_NAME, "th").text == level_words:
            return int(row.find_element(By.TAG_NAME, "td").text)
    return None


def test_a_township_clerk_sees_the_township_fails_a_step_and_a_sheet_row(site, browser, tmp_path):
    city, town, village, other = the_county(site)
    neighbour = site.post("/api/v1/org-units", {"name": "后辛庄村党支部", "kind": "village_branch",
                                                "parent_id": town["id"]}).json()
    member = site.post("/api/v1/members", {**MEMBER, "branch_id": village["id"]})
    assert member.status_code == 201, member.text
    wait_for(lambda: known_units(site, 5), message="the gateway learning the neighbour")
    a_ticket_in(site, village)
    matter = a_matter_in(site, village)
    site.user("clerk", "township_staff", town["id"])

    # the public landing page lists the townships and their villages' disclosure pages
    browser.get(site.base + "/")
    townships = browser.find_element(By.ID, "townships")
    assert "旧城镇党委" in townships.text and "南排河镇党委" in townships.text
    assert townships.find_element(
        By.CSS_SELECTOR, f"a[href='/gongkai/villages/{village['id']}']").get_attribute(
        "textContent").startswith("前辛庄村党支部")
    browser.shot("landing")

    # the township's console: three panels, each from the clerk's own scope
    log_in(browser, site, "clerk")
    assert "旧城镇党委" in text_of(browser, "#who")
    for panel in ("tickets", "matters", "stars"):
        assert browser.find_element(By.ID, f"panel-{panel}").is_displayed(), panel
    states = {row.get_attribute("data-state"): int(row.find_element(By.TAG_NAME, "td").text)
              for row in browser.find_elements(By.CSS_SELECTOR, "#ticket-states tbody tr")}
    assert set(states) == {"breached", "due_soon", "on_track", "paused", "done"}
    assert sum(states.values()) == 1 and states["on_track"] + states["due_soon"] == 1
    assert "受理件数 1\n办结件数 0" in text_of(browser, "#measures")
    assert browser.find_element(By.CSS_SELECTOR, "#panel-stars svg.chart title").get_attribute(
        "textContent").startswith("旧城镇党委党支部星级分布")

    def branch_ranked():
        if level_count(browser, "0 星"):
            return True
        browser.refresh()
        return False
    wait_for(branch_ranked, timeout=20, message="stars ranking the village branch")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#score-trend tbody tr")) == 6
    assert "村内主街道硬化" in text_of(browser, "#open-matters")
    browser.shot("township-console")

    # a matter's step with a vote that is not a number: the reason next to each field
    loads(browser, browser.find_element(By.ID, "record-step").click)
    form = browser.find_element(By.ID, "stepform-form")
    for field in form.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea"):
        assert form.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
    browser.find_element(By.ID, "matter_id").send_keys("1")
    Select(browser.find_element(By.ID, "step")).select_by_index(1)
    browser.find_element(By.ID, "votes_for").send_keys("many")
    loads(browser, browser.find_element(By.ID, "stepform-submit").click)
    error = browser.find_element(By.ID, "votes_for-error")
    assert error.is_displayed() and "应为整数（0 或以上）" in error.text
    assert browser.switch_to.active_element.get_attribute("id") == "error-summary"
    assert browser.find_element(By.ID, "votes_for").get_attribute("aria-invalid") == "true"
    assert "votes_for-error" in browser.find_element(By.ID, "votes_for").get_attribute(
        "aria-describedby")
    assert browser.find_element(By.ID, "votes_for").get_attribute("value") == "many"
    assert "三项票数要么都填" in text_of(browser, "#votes_against-error")
    assert "give all three vote counts" in browser.find_element(
        By.CSS_SELECTOR, "#votes_against-error .reason").get_attribute("title")
    assert "赞成票" in text_of(browser, "#error-summary")
    browser.shot("step-field-error")

    # the service's own check (more present than members) comes back next to its field
    browser.get(f"{site.base}/console/steps?matter_id={matter['id']}")
    assert browser.find_element(By.ID, "matter_id").get_attribute("value") == str(matter["id"])
    Select(browser.find_element(By.ID, "step")).select_by_value("joint_meeting")
    for field, value in (("attendance_members", "9"), ("attendance_present", "10"),
                         ("votes_for", "7"), ("votes_against", "1"), ("votes_abstain", "0")):
        browser.find_element(By.ID, field).send_keys(value)
    loads(browser, browser.find_element(By.ID, "stepform-submit").click)
    assert "实到 10 人，多于应到的 9 人" in text_of(browser, "#attendance_present-error")
    assert browser.find_element(By.ID, "attendance_present").get_attribute(
        "aria-invalid") == "true"
    browser.shot("step-service-error")

    # a ticket opened through the form: the service names the missing field; then escalated
    loads(browser, lambda: browser.get(site.base + "/console/tickets/new"))
    Select(browser.find_element(By.ID, "service_point_id")).select_by_index(1)
    Select(browser.find_element(By.ID, "matter_code")).select_by_value("certificate")
    loads(browser, browser.find_element(By.ID, "ticket_form-submit").click)
    assert "必填项" in text_of(browser, "#requester_name-error")
    assert browser.find_element(By.CSS_SELECTOR, "#requester_name-error .reason").get_attribute(
        "title") == "Missing data for required field."
    browser.find_element(By.ID, "requester_name").send_keys("王大娘")
    loads(browser, browser.find_element(By.ID, "ticket_form-submit").click)
    assert "已受理，工单编号" in text_of(browser, "#done")
    number = browser.find_element(By.ID, "done-link").get_attribute("href").rsplit("=", 1)[1]
    browser.get(f"{site.base}/console/tickets/escalate?ticket_id={number}")
    loads(browser, browser.find_element(By.ID, "escalate-submit").click)
    assert browser.find_element(By.ID, "reason-error").is_displayed()
    browser.find_element(By.ID, "reason").send_keys("需乡镇出具")
    loads(browser, browser.find_element(By.ID, "escalate-submit").click)
    assert f"工单 {number} 已上报至乡镇便民服务中心" in text_of(browser, "#done")
    browser.shot("ticket-escalated")

    # an activity sheet with a bad row: nothing stored, the row's problem in a table
    sheet = tmp_path / "活动.csv"
    sheet.write_text("resident_id,kind,occurred_on,hours\n"
                     f"{MEMBER['resident_id']},volunteer_service,2026-11-02,3\n"
                     f"{MEMBER['resident_id']},dancing,2026-11-03,\n", encoding="utf-8")
    browser.get(site.base + "/console/uploads")
    assert browser.find_element(By.ID, "template-activities").get_attribute("href") == \
        site.base + "/console/templates/activities.csv"
    Select(browser.find_element(By.ID, "branch_id")).select_by_value(str(village["id"]))
    browser.find_element(By.ID, "file").send_keys(str(sheet))
    browser.execute_script("window.samePage = true")
    browser.find_element(By.ID, "upload-submit").click()
    WebDriverWait(browser, 20).until(
        expected_conditions.presence_of_element_located((By.ID, "row-errors")))
    assert browser.execute_script("return window.samePage") is True   # sent by XHR, with progress
    assert browser.switch_to.active_element.get_attribute("id") == "upload-result"
    rows = [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#row-errors tbody tr")]
    assert [row[:2] for row in rows] == [["3", "kind"]], rows
    assert "整张表未导入" in browser.find_element(By.ID, "upload-result").text
    assert "应为以下之一" in rows[0][2]
    assert "1 行有问题" in text_of(browser, "#file-error")
    browser.shot("sheet-row-error")

    # the blank sheet, as the link downloads it with the clerk's session: Excel-ready CSV
    session = {c["name"]: c["value"] for c in browser.get_cookies()}
    blank = requests.get(site.base + "/console/templates/activities.csv", cookies=session,
                         timeout=15)
    assert blank.status_code == 200 and blank.headers["Content-Type"].startswith("text/csv")
    assert blank.content.startswith(b"\xef\xbb\xbfresident_id,kind,occurred_on,")
    assert blank.content.count(b"\xef\xbb\xbf") == 1
    assert blank.headers["Content-Disposition"] == (
        "attachment; filename=\"activity-sheet-template.csv\"; filename*=UTF-8''"
        "%E5%85%9A%E5%91%98%E6%B4%BB%E5%8A%A8%E8%A1%A8%E6%A8%A1%E6%9D%BF.csv")
    assert requests.get(site.base + "/console/templates/members.csv", cookies=session,
                        timeout=15).content.startswith(b"\xef\xbb\xbfname,gender,")
    assert requests.get(site.base + "/console/templates/votes.csv", cookies=session,
                        timeout=15).status_code == 404
    assert requests.get(site.base + "/console/templates/activities.csv", timeout=15,
                        allow_redirects=False).status_code == 303          # no session

    # the township's staff open one of their villages' view
    browser.get(f"{site.base}/console/units/{village['id']}")
    assert "前辛庄村党支部" in text_of(browser, "#viewing")
    assert "村内主街道硬化" in text_of(browser, "#open-matters")

    # a village cadre: the branch's own view; a neighbouring village's view is refused by name
    site.user("cadre", "village_cadre", village["id"])
    browser.get(site.base + "/console")
    loads(browser, browser.find_element(By.ID, "logout").click)
    log_in(browser, site, "cadre")
    assert "前辛庄村党支部" in text_of(browser, "#who") and "村干部" in text_of(browser, "#who")
    states = {row.get_attribute("data-state"): int(row.find_element(By.TAG_NAME, "td").text)
              for row in browser.find_elements(By.CSS_SELECTOR, "#ticket-states tbody tr")}
    assert sum(states.values()) >= 1                        # the village station's tickets
    assert browser.find_elements(By.ID, "measures") == []   # the township's measures are not theirs
    assert "村内主街道硬化" in text_of(browser, "#open-matters")
    assert browser.find_elements(By.CSS_SELECTOR, "#panel-stars .panel-problem") == []
    assert browser.find_element(By.CSS_SELECTOR, "#panel-stars svg.chart title").get_attribute(
        "textContent").startswith("前辛庄村党支部党员星级分布")
    browser.shot("village-console")
    for unit in (town, neighbour):                          # the township above, the neighbour
        browser.get(f"{site.base}/console/units/{unit['id']}")
        assert text_of(browser, "#error-message") == \
            f"“{unit['name']}”不在您的管辖范围（前辛庄村党支部）内，不能查看。"
    browser.shot("village-refused")

    # the county administrator's console compares the townships
    browser.get(site.base + "/console")
    loads(browser, browser.find_element(By.ID, "logout").click)
    log_in(browser, site, "admin")
    rows = {row.get_attribute("data-township"): [c.text for c in row.find_elements(
        By.CSS_SELECTOR, "th, td")] for row in browser.find_elements(
        By.CSS_SELECTOR, "#townships tbody tr")}
    assert set(rows) == {str(town["id"]), str(other["id"])}
    assert rows[str(town["id"])][0] == "旧城镇党委" and rows[str(town["id"])][4] == "2"   # opened
    assert rows[str(town["id"])][7] == "1"                    # the matter in progress
    assert len(browser.find_elements(By.CSS_SELECTOR, "#panel-county svg.chart")) == 2
    browser.shot("county-console")
