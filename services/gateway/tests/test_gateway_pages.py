"""The web pages in a real browser: headless Chromium (Debian's ``chromium`` and its matching
``chromium-driver``, installed by ``scripts/local-services.sh``) driven by Selenium, against
members + stars + affairs + tickets + gateway running on the real RabbitMQ and PostgreSQL.

A township clerk logs in through the page, fails the activity form with a visible field error
(the service's reason in Chinese, the summary focused),
records an activity and sees the member's ranking board move once stars has scored it; a QR
code's URL opens a village's public record whose hash-chain check passes, and fails after the
record is altered directly in the affairs database; a ticket's status is found by its number;
the English switch is remembered. Screenshots are kept under ``test-artifacts/gateway-pages/``.

(PostgreSQL only: the pages add no storage of their own, and both databases are covered by
the services' and the API's tests; a browser run costs ~10 s.)"""
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select, update

from gateway_http import Client, _up, county, free_port
from services.affairs.models import PublishedRecord
from services.affairs.service import AffairsService
from services.gateway.service import GatewayService
from services.members.service import MembersService
from services.stars.service import StarsService
from services.tickets import models as tickets_models
from services.tickets.service import TicketsService
from shared import migrate
from shared.bus import declare_all
from shared.bus.rpc import rpc_client
from shared.config import ROOT
from shared.errors import NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration
CLASSES = (MembersService, StarsService, AffairsService, TicketsService, GatewayService)
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "test-artifacts" / "gateway-pages"
MEMBER = {"name": "张建国", "gender": "male", "ethnicity": "汉族", "birth_date": "1980-05-17",
          "resident_id": "13098319800517011X", "join_date": "2005-07-01", "status": "full"}
CERTIFICATE = {"code": "certificate", "name": "开具村级证明", "group": "村务",
               "lowest_level": "village", "time_limit_days": 2, "documents": ["居民身份证"]}


@pytest.fixture
def site(amqp_uri, pg_url_factory, tmp_path):
    """members + stars + affairs + tickets + gateway; affairs' public URLs point at the
    gateway's pages (``<gateway>/gongkai``), as a deployment sets ``publication.base_url``."""
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
                  affairs={"publication": {"base_url": f"{base}/gongkai"},
                           "evidence": {"folder": str(tmp_path / "evidence")}})
    with services_running(config, *CLASSES):
        wait_for(lambda: _up(base), message="the gateway listening")
        client = Client(base, urls["gateway"])
        client.config, client.urls = config, urls
        yield client


@pytest.fixture
def browser(request):
    for path in (CHROMIUM, DRIVER):
        if not Path(path).exists() and not shutil.which(Path(path).name):
            pytest.fail(f"{path} is missing: run scripts/local-services.sh (Debian's chromium "
                        "and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=420,900", "--lang=zh-CN"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=DriverService(DRIVER), options=options)
    driver.implicitly_wait(0)
    shots = Shots(driver, request.node.name)
    driver.shot = shots
    failed_before = request.session.testsfailed
    yield driver
    if request.session.testsfailed > failed_before:   # the page the test failed on
        shots("failed")
    driver.quit()


class Shots:
    """Numbered full-page screenshots of one test under ``test-artifacts/gateway-pages``."""

    def __init__(self, driver, test_name):
        self.driver, self.count = driver, 0
        self.prefix = "".join(c if c.isalnum() or c in "-_" else "_" for c in test_name)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{self.prefix}-*.png"):
            old.unlink()

    def __call__(self, what):
        self.count += 1
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(420, max(900, min(int(height) + 40, 6000)))
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{what}.png"
        self.driver.save_screenshot(str(path))
        return path


def loads(driver, act):
    """Do ``act()`` (a click, an Enter) and wait for the next page to replace this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    act()
    # while the old page is torn down, asking about its node can fail with a plain
    # WebDriverException ("Node ... does not belong to the document"): ask again
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        expected_conditions.staleness_of(old))
    WebDriverWait(driver, 15).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def text_of(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def the_county(api):
    api.user("admin", "county_admin")
    assert api.login("admin").status_code == 200
    return county(api)


# -- staff: log in, a field error, an activity, the board moves ------------------------------------

def board_score(driver, name):
    """The score in the board row of ``name`` (the masked name), or None when not listed."""
    for row in driver.find_elements(By.CSS_SELECTOR, "#board tbody tr"):
        cells = row.find_elements(By.CSS_SELECTOR, "th, td")
        if len(cells) >= 5 and cells[1].text == name:
            return cells[4].text
    return None


def test_a_clerk_logs_in_fails_a_field_records_an_activity_and_sees_the_board_move(site, browser):
    city, town, village, other = the_county(site)
    member = site.post("/api/v1/members", {**MEMBER, "branch_id": village["id"]})
    assert member.status_code == 201, member.text
    member_id = member.json()["id"]
    site.user("clerk", "township_staff", town["id"])
    month = date.today().strftime("%Y-%m")
    board_path = f"/boards?kind=member&unit={village['id']}&period={month}"

    # the public board before: the member is listed with no points yet
    browser.get(site.base + board_path)
    wait_for(lambda: board_score(browser, "张＊＊") is not None or browser.refresh(),
             timeout=20, message="stars knowing the member")
    before = board_score(browser, "张＊＊")
    assert float(before) == 0
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert browser.find_element(By.CSS_SELECTOR, "svg.chart title").get_attribute(
        "textContent").startswith("全县党员星级分布")
    browser.shot("board-before")

    # the console sends an anonymous visitor to the login page; a wrong password is refused
    browser.get(site.base + "/console/activities")
    assert browser.current_url.startswith(site.base + "/console/login")
    browser.find_element(By.ID, "username").send_keys("clerk")
    loads(browser, lambda: browser.find_element(By.ID, "password").send_keys(
        "not the password" + Keys.ENTER))
    assert "用户名或密码错误" in text_of(browser, "#login-message")
    browser.find_element(By.ID, "username").clear()
    browser.find_element(By.ID, "username").send_keys("clerk")
    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    browser.shot("login")
    loads(browser, browser.find_element(By.ID, "login-submit").click)
    assert browser.current_url == site.base + "/console/activities"   # back where it was going
    access = browser.get_cookie("jiceng_access")
    assert access["httpOnly"] is True and access["sameSite"] == "Strict"
    assert browser.execute_script("return document.cookie").find("jiceng_access") == -1

    # every field has a label; a bad value comes back next to its field
    form = browser.find_element(By.ID, "activity-form")
    for field in form.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select"):
        assert form.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
    browser.find_element(By.ID, "member_id").send_keys(str(member_id))
    Select(browser.find_element(By.ID, "kind")).select_by_value("volunteer_service")
    browser.find_element(By.ID, "hours").send_keys("30")
    loads(browser, browser.find_element(By.ID, "activity-submit").click)
    error = browser.find_element(By.ID, "hours-error")      # in Chinese, the original kept
    assert error.is_displayed() and "应大于 0 且不超过 24" in error.text
    assert "at most 24" in error.find_element(By.CSS_SELECTOR, ".reason").get_attribute("title")
    assert browser.find_element(By.ID, "hours").get_attribute("aria-invalid") == "true"
    assert "hours-error" in browser.find_element(By.ID, "hours").get_attribute("aria-describedby")
    assert browser.find_element(By.ID, "member_id").get_attribute("value") == str(member_id)
    assert "不超过 24" in text_of(browser, "#error-summary")
    assert browser.switch_to.active_element.get_attribute("id") == "error-summary"
    browser.shot("field-error")

    # corrected, it is recorded (the keyboard alone: type, then Enter submits the form)
    hours = browser.find_element(By.ID, "hours")
    hours.clear()
    loads(browser, lambda: hours.send_keys("3" + Keys.ENTER))
    assert f"党员 {member_id}" in text_of(browser, "#recorded")
    browser.shot("recorded")

    # stars scores it asynchronously: the board link shows the member move
    loads(browser, browser.find_element(By.ID, "board-link").click)
    assert browser.current_url == site.base + board_path

    def moved():
        score = board_score(browser, "张＊＊")
        if score is not None and float(score) > 0:
            return score
        browser.refresh()
        return None
    after = wait_for(moved, timeout=30, interval=0.5, message="the board showing the points")
    assert float(after) > float(before)
    assert text_of(browser, "#board tbody tr th") == "张＊＊"
    browser.shot("board-after")

    # without its access token (expired) the console refreshes the login once, by its cookie
    browser.delete_cookie("jiceng_access")
    browser.get(site.base + "/console")
    assert "clerk" in text_of(browser, "#who") and browser.get_cookie("jiceng_access")
    refresh = browser.get_cookie("jiceng_refresh")
    assert refresh["path"] == "/console" and refresh["httpOnly"] is True

    # logging out revokes the session: the console asks for a login again
    loads(browser, browser.find_element(By.ID, "logout").click)
    assert browser.current_url.startswith(site.base + "/console/login")
    assert browser.get_cookie("jiceng_access") is None
    browser.get(site.base + "/console")
    assert browser.current_url.startswith(site.base + "/console/login")
    audit = site.get("/api/v1/audit", actor="clerk", limit=20)
    assert {e["action"] for e in audit.json()["items"]} >= {"members.record_activity"}


# -- public: a QR code's URL, the chain check passing and failing; a ticket; English ---------------

def ago(days):
    return (date.today() - timedelta(days=days)).isoformat()


def meeting(members, present, votes_for, against=0, abstain=0):
    return {"attendance": {"members": members, "present": present},
            "votes": {"for": votes_for, "against": against, "abstain": abstain}}


STEPS = (("joint_meeting", 95, meeting(9, 8, 7, 1)),
         ("party_assembly", 90, meeting(40, 30, 25, 3, 2)),
         ("villagers_assembly", 85, {"form": "representatives_meeting",
                                     **meeting(45, 31, 27, 2, 2)}),
         ("resolution_published", 84, {"notice_days": 7, "channels": ["board", "qr_code"],
                                       "note": "决议公告：硬化主街道"}))


def published_matter(affairs, village_id):
    """A spending matter walked to its published resolution (the village's record 1)."""
    proposal = {"branch_id": village_id, "item": "major_spending", "title": "村内主街道硬化",
                "description": "硬化主街道 1.2 公里", "amount": "86000.00",
                "proposed_on": ago(100), "recorded_by": "王书记", **meeting(5, 5, 5)}

    def propose():
        try:
            return affairs.propose_matter(proposal)
        except NotFound:
            return None
    matter = wait_for(propose, message="affairs learning the village")
    for step, days, data in STEPS:
        matter = affairs.record_step(matter["id"], {"step": step, "on": ago(days),
                                                    "recorded_by": "王会计", **data})
    return matter


def test_a_qr_code_opens_the_village_record_whose_check_fails_once_the_database_is_altered(
        site, browser):
    city, town, village, other = the_county(site)
    with rpc_client(site.config) as cluster:
        matter = published_matter(cluster.affairs, village["id"])
        code = cluster.affairs.qr_code(village["id"], 1, "png")
    [publication] = matter["publications"]
    assert code["url"] == publication["url"] == \
        f"{site.base}/gongkai/villages/{village['id']}/records/1"

    # the URL the QR code holds is the record's page; its chain check passes
    browser.get(code["url"])
    check = browser.find_element(By.ID, "chain-check")
    assert check.get_attribute("data-holds") == "true"
    assert "记录完整" in check.text and "1 条公开记录" in check.text
    assert "村内主街道硬化" in text_of(browser, "#record-title")
    assert text_of(browser, "#record-amount") == "86000.00"
    assert "27 / 2 / 2" in browser.find_element(By.CSS_SELECTOR, "table.steps").text
    browser.shot("record-intact")

    # the village's page lists the matter with its steps, votes and publication
    loads(browser, browser.find_element(By.LINK_TEXT, "本村全部公开事项").click)
    assert browser.current_url == f"{site.base}/gongkai/villages/{village['id']}"
    assert "前辛庄村党支部 村务公开" in text_of(browser, "h1")
    assert text_of(browser, "#chain-check").startswith("✔")
    article = browser.find_element(By.ID, f"matter-{matter['id']}")
    assert "村内主街道硬化" in article.text and "村民代表会议" in article.text
    assert article.find_element(By.CSS_SELECTOR, "li.pub").get_attribute("data-state") == "ok"
    browser.shot("village-intact")

    # an edit made directly in the affairs database breaks the check, visibly
    store = AffairsService.store.handle(site.urls["affairs"], source="affairs")
    with store.transaction() as session:
        content = session.scalar(select(PublishedRecord.content).where(
            PublishedRecord.branch_id == village["id"], PublishedRecord.seq == 1))
        session.execute(update(PublishedRecord).where(
            PublishedRecord.branch_id == village["id"], PublishedRecord.seq == 1)
            .values(content=content.replace("86000.00", "8600.00")))
    browser.refresh()
    check = browser.find_element(By.ID, "chain-check")
    assert check.get_attribute("data-holds") == "false"
    assert "记录校验未通过" in check.text and "第 1 条" in check.text
    assert article_state(browser, matter["id"]) == "broken"
    browser.shot("village-altered")
    browser.get(code["url"])
    assert browser.find_element(By.ID, "chain-check").get_attribute("data-holds") == "false"
    assert "此条未通过校验" in text_of(browser, "#record-state")
    browser.shot("record-altered")

    # English on request, remembered by a cookie; Chinese again on request
    loads(browser, browser.find_element(By.ID, "lang-switch").click)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "The record check FAILED" in text_of(browser, "#chain-check")
    browser.get(f"{site.base}/gongkai/villages/{village['id']}")
    assert "village affairs made public" in text_of(browser, "h1")
    browser.shot("village-english")
    loads(browser, browser.find_element(By.ID, "lang-switch").click)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    browser.get(site.base + "/gongkai/villages/999999")
    assert "没有找到" in text_of(browser, "#error-message")


def article_state(driver, matter_id):
    return driver.find_element(By.CSS_SELECTOR, f"#matter-{matter_id} li.pub").get_attribute(
        "data-state")


def test_a_villager_finds_a_ticket_by_its_number_without_anyones_name(site, browser):
    city, town, village, other = the_county(site)
    store = TicketsService.store.handle(site.urls["tickets"], source="tickets")

    def learned():
        with store.reading() as session:
            return session.get(tickets_models.Unit, village["id"]) is not None
    wait_for(learned, message="tickets learning the village")
    assert site.post("/api/v1/catalogue", CERTIFICATE).status_code == 200
    station = site.post("/api/v1/stations", {"unit_id": village["id"]}).json()
    opened = site.post("/api/v1/tickets", {"service_point_id": station["id"],
                                           "matter_code": "certificate",
                                           "requester_name": "刘大爷"}).json()
    assert site.post(f"/api/v1/tickets/{opened['id']}/accept", {}).status_code == 200

    browser.get(site.base + "/ticket-status")
    field = browser.find_element(By.ID, "number")
    loads(browser, lambda: field.send_keys("abc" + Keys.ENTER))
    assert "请输入数字编号" in text_of(browser, "#number-error")
    browser.find_element(By.ID, "number").clear()
    loads(browser, lambda: browser.find_element(By.ID, "number").send_keys(
        f"＃{opened['id']}" + Keys.ENTER))
    assert text_of(browser, "#ticket-status") == "已接单"
    shown = text_of(browser, "#ticket")
    assert "开具村级证明" in shown and "村级服务站" in shown and "接单" in shown
    assert "刘大爷" not in browser.page_source and "admin" not in shown
    browser.shot("ticket")
    browser.get(site.base + "/ticket-status?number=987654")
    assert "没有编号为 987654 的工单" in text_of(browser, "#number-error")
