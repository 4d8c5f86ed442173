"""A public board through the running gateway: a repeat is answered from the gateway's memory
(``gateway.public_cache_seconds``, here long enough to see), ``Cache-Control: no-cache`` asks
stars itself, and the answer says how long it may be kept. A repeat by an anonymous reader is
answered before a worker starts (``entrypoints.public_first``): still with its own request id,
counted in the metrics, and never for a caller whose token must be checked."""
from datetime import date

import pytest
import requests

from gateway_http import api, county  # noqa: F401  (fixture)
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
GATEWAY_SETTINGS = {"public_cache_seconds": 300}
MEMBER = {"name": "张三", "gender": "male", "ethnicity": "汉族", "birth_date": "1980-05-17",
          "resident_id": "13098319800517011X", "join_date": "2005-07-01", "status": "full"}


def board(api, fresh=False):
    headers = {"Cache-Control": "no-cache"} if fresh else {}
    answer = requests.get(api.base + "/api/v1/boards/member", timeout=10, headers=headers,
                          params={"period": date.today().strftime("%Y-%m"),
                                  "scope_kind": "county"})
    assert answer.status_code == 200, answer.text
    return answer


def test_a_board_is_kept_for_its_moment_and_no_cache_asks_stars(api):
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    before = board(api)
    assert before.headers["Cache-Control"] == "public, max-age=300"
    assert before.json()["entries"] == []

    created = api.post("/api/v1/members", {**MEMBER, "branch_id": village["id"]})
    assert created.status_code == 201, created.text
    wait_for(lambda: board(api, fresh=True).json()["entries"], timeout=30,
             message="stars ranking the new member")
    assert board(api).json() == before.json()          # still the kept answer
    assert requests.get(api.base + "/api/v1/townships", headers=api.headers(),
                        timeout=10).headers.get("Cache-Control") is None


def test_a_repeat_answered_before_a_worker_is_still_a_full_answer(api):
    api.user("admin", "county_admin")
    api.login("admin")
    county(api)
    first, second = board(api), board(api)
    assert second.content == first.content
    assert second.headers["Content-Type"] == "application/json"
    assert second.headers["Cache-Control"] == "public, max-age=300"
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    given = requests.get(first.url, headers={"X-Request-Id": "phone-42"}, timeout=10)
    assert given.headers["X-Request-Id"] == "phone-42" and given.content == first.content

    forged = requests.get(first.url, headers={"Authorization": "Bearer forged"}, timeout=10)
    assert forged.status_code == 401, forged.text
    with_body = requests.get(first.url, data=b'{"n": 1}', timeout=10)
    assert with_body.status_code == 400 and "_body" in with_body.json()["fields"], with_body.text

    def answered():
        text = requests.get(api.base + "/metrics", timeout=30).text
        line = next(line for line in text.splitlines() if line.startswith(
            'jiceng_http_requests_total{method="GET",route="stars.top",status="200"}'))
        return float(line.rsplit(" ", 1)[1])
    before = answered()
    for _ in range(3):
        board(api)
    assert answered() == before + 3
