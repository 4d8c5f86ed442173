"""The runner as a user starts it: ``jiceng run``, ``jiceng health``, and several processes of one
service sharing the broker (scale-out)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from services.members.service import MembersService
from shared import migrate, plugins
from shared.bus.rpc import rpc_client
from tests.support.fixtures import make_config
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def jiceng(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "shared.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, LOG_LEVEL="WARNING"), **kwargs)


def write_config(tmp_path, config):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_run_without_a_broker_exits_non_zero_and_says_how_to_start_one(tmp_path):
    config = make_config("amqp://guest:guest@127.0.0.1:1/", {"members": f"sqlite:///{tmp_path}/m.db"})
    process = jiceng("run", "--config", write_config(tmp_path, config))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "RabbitMQ is not reachable" in output
    assert "rabbitmq-server -detached" in output and "docker compose up -d rabbitmq" in output


def test_run_loads_the_demo_serves_every_service_answers_health_and_stops_on_ctrl_c(tmp_path, amqp_uri):
    names = sorted(plugins.services())
    config = make_config(amqp_uri, {name: f"sqlite:///{tmp_path}/{name}.db" for name in names})
    config["services"]["gateway"]["web_address"] = f"127.0.0.1:{free_port()}"
    config["gateway"] = {"token_secret": "t" * 40}
    path = write_config(tmp_path, config)
    process = jiceng("run", "--config", path, "--demo", "--demo-scale", "0.02")
    try:
        lines = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "jiceng health" in line or process.poll() is not None:
                break
        text = "".join(lines)
        assert "demo data for members loaded" in text, text
        assert "demo data for gateway loaded" in text, text
        assert all(f"  {name} " in text for name in names), text
        health = subprocess.run([sys.executable, "-m", "shared.cli", "health", "--config", path],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert health.returncode == 0, health.stdout + health.stderr
        reports = [json.loads(line) for line in health.stdout.strip().splitlines()]
        assert {r["service"] for r in reports} == set(names)
        assert all(r["status"] == "ok" for r in reports), reports
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
        assert process.returncode == 0
    finally:
        stop(process)
    again = jiceng("run", "--config", path, "--demo", "--demo-scale", "0.02")
    try:
        output = ""
        while "jiceng health" not in output and again.poll() is None:
            output += again.stdout.readline()
        assert "demo data" not in output, "the demo county is loaded once"
    finally:
        stop(again)


def stop(process):
    """SIGTERM (jiceng run stops its children), then kill: never leave a runner behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_health_reports_a_stopped_service_as_down(tmp_path, amqp_uri):
    config = make_config(amqp_uri, {"members": f"sqlite:///{tmp_path}/m.db"})
    result = subprocess.run([sys.executable, "-m", "shared.cli", "health", "members", "--timeout", "1",
                             "--config", write_config(tmp_path, config)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert json.loads(result.stdout.strip())["status"] == "down"


def test_several_processes_of_one_service_share_the_work(tmp_path, amqp_uri, pg_url_factory):
    url = pg_url_factory()
    migrate.upgrade(MembersService, url)
    config = make_config(amqp_uri, {"members": url})
    path = write_config(tmp_path, config)
    processes = [jiceng("serve", "members", "--config", path) for _ in range(3)]
    try:
        with rpc_client(config) as cluster:
            wait_for(lambda: _answers(cluster), timeout=60, message="members answering")
            pids = set()

            def all_three_answer():
                # a process that is still starting takes no requests yet: under load the last
                # one can come up seconds after the first answers
                pids.update(cluster.members.health()["pid"] for _ in range(30))
                return len(pids) == 3
            wait_for(all_three_answer, timeout=60, message="all three processes answering")
            city = cluster.members.create_org_unit({"name": "黄骅市委", "kind": "city_committee",
                                                    "parent_id": None})
            towns = [cluster.members.create_org_unit({"name": f"镇{i}", "kind": "township_committee",
                                                      "parent_id": city["id"]}) for i in range(20)]
        assert len(pids) == 3, f"3 processes, answers came from {pids}"
        assert len({t["id"] for t in towns}) == 20
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.communicate(timeout=60)
    assert all(p.returncode == 0 for p in processes)


def _answers(cluster):
    try:
        return cluster.members.health()["status"] == "ok"
    except Exception:
        return False


def test_a_repeated_sigterm_stops_a_service_once_and_cleanly(tmp_path, amqp_uri):
    """Orchestrators repeat SIGTERM (and a terminal's Ctrl-C reaches every process of the
    group): nameko stopping one container twice at once unregistered its RPC consumer twice
    (``CRITICAL ... KeyError: <RpcConsumer>``) or waited for ever."""
    config = make_config(amqp_uri, {"members": f"sqlite:///{tmp_path}/m.db"})
    migrate.upgrade(MembersService, config["services"]["members"]["database_url"])
    process = jiceng("serve", "members", "--config", write_config(tmp_path, config))
    try:
        with rpc_client(config) as cluster:
            wait_for(lambda: _answers(cluster), timeout=60, message="members answering")
    finally:
        for _ in range(3):
            process.send_signal(signal.SIGTERM)
            time.sleep(0.05)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "KeyError" not in output and "CRITICAL" not in output, output
