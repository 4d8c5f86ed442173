"""The HTTP API under load: a ranking read and an activity write through the gateway at 50
concurrent connections (``wrk``), beside the raw nameko RPC round trip of the same read at 50
concurrent callers in the same run. The ranking read is measured twice: as phones make it (the
gateway keeps a public board's answer for a second, ``gateway.public_cache_seconds``) and with
``Cache-Control: no-cache`` (every read asks the stars service); then once more with two gateway
processes on the one port (SO_REUSEPORT, which nameko's listener sets: the kernel spreads the
connections), as a deployment scales the stateless gateway out. Each read is measured in steady state,
after ``WARM_UP_SECONDS`` of the same reads unmeasured.

``wrk`` runs one thread for its 50 connections, as the RPC baseline is one process with 50 green
threads: on this two-core machine a second wrk thread takes the CPU the servers need, and its
own waits for that CPU are counted as the servers' latency (with two gateway processes, wrk -t2
measured a p99 of 490-560 ms where -t1 measured 86-127 ms, same build, same run).

members, stars and the gateway run as processes of their own on PostgreSQL (as ``jiceng run``
starts them); a small county (one township, one village, ``MEMBERS`` members with a month of
activities) is loaded through the API's RPCs first, so the board has a ranking to read.

Run alone: ``.venv/bin/python -m bench.http [seconds]``.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

import requests  # noqa: E402

from services.gateway import accounts, tokens  # noqa: E402
from services.gateway.service import GatewayService  # noqa: E402
from services.members import resident_id  # noqa: E402
from services.members.service import MembersService  # noqa: E402
from services.stars.service import StarsService  # noqa: E402
from shared import migrate  # noqa: E402
from shared.bus.rpc import rpc_client  # noqa: E402

sys.path.insert(0, os.getcwd())
from bench.latency import percentile, served_apart  # noqa: E402
from tests.support import broker  # noqa: E402
from tests.support.fixtures import make_config  # noqa: E402
from tests.support.running import wait_for  # noqa: E402

CONNECTIONS = 50
WARM_UP_SECONDS = 3      # unmeasured reads first: a process's first requests build its caches
DRAIN_SECONDS = 5        # the writes in flight when wrk stops are answered before the services
                         # stop (else the gateway logs their RPC timeouts as it stops)
MEMBERS = 60
PASSWORD = "bench password 2026"
WRITE_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local members = {%(members)s}
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"member_id": %%d, "kind": "volunteer_service", ' ..
    '"occurred_on": "%(day)s", "hours": 1}', members[(n %% #members) + 1])
  return wrk.format(nil, "/api/v1/activities", nil, body)
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, seconds, script=None, headers=()) -> dict:
    """Requests per second and latency percentiles (ms) as wrk prints them."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--latency",
               "--timeout", "10s"]
    folder = None
    if script is not None:
        folder = tempfile.mkdtemp(prefix="jiceng-bench-wrk-")
        path = os.path.join(folder, "script.lua")
        with open(path, "w") as handle:
            handle.write(script)
        command += ["-s", path]
    for header in headers:
        command += ["-H", header]
    try:
        out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    figures = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        value, unit = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out).groups()
        figures[key] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = int(errors.group(1)) if errors else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    figures["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    return figures


def rpc_baseline(config, seconds, period) -> dict:
    """The same ranking read as raw nameko RPC from 50 concurrent callers."""
    latencies, stop_at = [], time.perf_counter() + seconds

    def caller():
        with rpc_client(config) as cluster:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                cluster.stars.top("member", "county", None, period, 10)
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    pool = [eventlet.spawn(caller) for _ in range(CONNECTIONS)]
    for thread in pool:
        thread.wait()
    elapsed = time.perf_counter() - started
    return {"requests_per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99)}


def seed(config, day):
    """A city, a township, a village and MEMBERS members, each with one activity."""
    with rpc_client(config, timeout=30) as cluster:
        m = cluster.members
        city = m.create_org_unit({"name": "市委", "kind": "city_committee", "parent_id": None})
        town = m.create_org_unit({"name": "镇党委", "kind": "township_committee",
                                  "parent_id": city["id"]})
        village = m.create_org_unit({"name": "村党支部", "kind": "village_branch",
                                     "parent_id": town["id"]})
        born = date(1980, 5, 17)
        members = []
        for number in range(1, MEMBERS + 1):
            gender = "male" if number % 2 else "female"
            member = m.register_member({
                "name": f"党员{number}", "gender": gender, "ethnicity": "汉族",
                "birth_date": born.isoformat(),
                "resident_id": resident_id.make("130983", born, number, gender),
                "join_date": "2005-07-01", "status": "full", "branch_id": village["id"]})
            members.append(member["id"])
            m.record_activity({"member_id": member["id"], "kind": "volunteer_service",
                               "occurred_on": day, "hours": 1 + number % 4})
    return members


def run(amqp, seconds=15.0) -> dict:
    urls = {name: broker.create_pg_database("jiceng_bench")
            for name in ("members", "stars", "gateway")}
    try:
        for cls in (MembersService, StarsService, GatewayService):
            migrate.upgrade(cls, urls[cls.name])
        port = free_port()
        config = make_config(amqp, urls)
        config["gateway"] = {"token_secret": "b" * 40, "services": ["members", "stars"]}
        config["services"]["gateway"].update(web_address=f"127.0.0.1:{port}", max_workers=60)
        store = GatewayService.store.handle(urls["gateway"], source="gateway")
        with store.transaction() as session:
            accounts.create_user(session, {"username": "bench", "display_name": "bench",
                                           "password": PASSWORD, "role": "county_admin",
                                           "unit_id": None}, tokens.utcnow())
        day = date.today().isoformat()
        period = day[:7]
        base = f"http://127.0.0.1:{port}"
        with served_apart(config, "members", "stars", "gateway"):
            members = seed(config, day)
            board = f"{base}/api/v1/boards/member?period={period}&scope_kind=county&n=10"
            wait_for(lambda: len(requests.get(board, timeout=5).json()["entries"]) >= 10
                     if requests.get(board, timeout=5).ok else False, timeout=120,
                     message="the board filled")
            token = requests.post(f"{base}/api/v1/auth/login", timeout=10, json={
                "username": "bench", "password": PASSWORD}).json()["access_token"]
            baseline = rpc_baseline(config, seconds, period)
            wrk(board, WARM_UP_SECONDS)
            read = wrk(board, seconds)
            uncached = wrk(board, seconds, headers=["Cache-Control: no-cache"])
            write = wrk(base, seconds, WRITE_SCRIPT % {
                "token": token, "members": ", ".join(map(str, members)), "day": day})
            time.sleep(DRAIN_SECONDS)
        with served_apart(config, "members", "stars", "gateway", "gateway"):
            wait_for(lambda: requests.get(board, timeout=5).ok, timeout=60,
                     message="two gateways answering")
            wrk(board, WARM_UP_SECONDS)
            read_two = wrk(board, seconds)
        return {"connections": CONNECTIONS, "seconds": seconds, "rpc_read": baseline,
                "http_read": read, "http_read_uncached": uncached, "http_write": write,
                "http_read_two_gateways": read_two}
    finally:
        for url in urls.values():
            broker.drop_pg_database(url)


if __name__ == "__main__":
    vhost = broker.create_vhost("jiceng-bench")
    try:
        figures = run(broker.amqp_uri(vhost), float(sys.argv[1]) if len(sys.argv) > 1 else 15)
    finally:
        broker.delete_vhost(vhost)
    print(json.dumps(figures, indent=2))
