"""Every page and form of the gateway (public pages, the console, Open311) given what a careless
or hostile visitor sends: junk, out-of-range and oversized values, missing fields, a missing or
forged CSRF token, markup. Each answer is a page or error of the 4xx kind (or a redirect to the
login), never a 5xx, never a traceback, never the markup echoed unescaped into a page (a JSON
answer may quote it: it is not rendered)."""
import re

import pytest
import requests

from test_gateway_pages import CERTIFICATE, MEMBER, site, the_county  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
MARKUP = "<script>alert(1)</script>"
JUNK = ["", "-1", "0", "abc", "9" * 40, "１２", MARKUP, "2026-13", "1e999", "\x7f"]
PUBLIC = [("/boards", ("kind", "unit", "period", "lang")),
          ("/ticket-status", ("number", "lang")),
          ("/", ("lang",)),
          ("/open311/v2/requests.json", ("start_date", "end_date", "status", "service_code",
                                         "service_request_id")),
          ("/open311/v2/services.json", ("jurisdiction_id",))]
FORMS = {"/console/activities": ("member_id", "kind", "occurred_on", "hours", "project"),
         "/console/steps": ("matter_id", "step", "held_on", "present", "votes_for"),
         "/console/tickets/new": ("service_point_id", "matter_code", "requester_name",
                                  "requester_phone"),
         "/console/tickets/escalate": ("ticket_id", "reason"),
         "/console/uploads": ("kind", "branch_id")}


def sound(answer, what):
    assert answer.status_code < 500, f"{what}: {answer.status_code}\n{answer.text[:500]}"
    assert "Traceback" not in answer.text, what
    if answer.headers.get("Content-Type", "").startswith("text/html"):
        assert MARKUP not in answer.text, f"{what}: markup echoed unescaped into a page"


def csrf_of(session, base, path):
    found = re.search(r'name="csrf" value="([^"]+)"', session.get(base + path, timeout=15).text)
    return found.group(1) if found else ""


def test_junk_in_every_public_page_and_console_form_is_answered_without_a_fault(site):
    city, town, village, other = the_county(site)
    base = site.base
    for path, names in PUBLIC:
        for name in names:
            for value in JUNK:
                sound(requests.get(base + path, params={name: value}, timeout=15),
                      f"GET {path}?{name}={value!r}")
    for path in ("/gongkai/villages/999999", "/gongkai/villages/999999/records/1",
                 f"/gongkai/villages/{village['id']}/records/999999",
                 "/open311/v2/requests/abc.json", "/open311/v2/services/x.xml",
                 "/console/units/999999", "/console/nothing", "/static/../../etc/passwd"):
        sound(requests.get(base + path, timeout=15), f"GET {path}")
    for value in JUNK:
        sound(requests.post(base + "/open311/v2/requests.json", timeout=15,
                            data={"api_key": value, "service_code": value,
                                  "description": value}), f"POST open311 {value!r}")

    site.user("clerk", "township_staff", town["id"])
    session = requests.Session()
    login = session.post(base + "/console/login", timeout=15, data={
        "username": "clerk", "password": "correct horse battery",
        "csrf": csrf_of(session, base, "/console/login")})
    sound(login, "login")
    assert session.get(base + "/console", timeout=15).url.endswith("/console")
    for path, names in FORMS.items():
        token = csrf_of(session, base, path)
        sound(session.post(base + path, data={name: "1" for name in names}, timeout=15),
              f"POST {path} without a CSRF token")
        sound(session.post(base + path, timeout=15,
                           data={"csrf": "forged", **{name: "1" for name in names}}),
              f"POST {path} with a forged token")
        for value in JUNK:
            data = {"csrf": token, **{name: value for name in names}}
            files = {"file": ("x.csv", value.encode("utf-8", "replace"))} \
                if path.endswith("uploads") else None
            sound(session.post(base + path, data=data, files=files, timeout=30),
                  f"POST {path} with every field {value!r}")
        sound(session.post(base + path, data={"csrf": token}, timeout=15),
              f"POST {path} with no fields")
