"""The whole REST API fuzzed from its own OpenAPI document: schemathesis (its command line, in a
process of its own) sends generated requests to every operation of a running gateway in front
of every installed service (on PostgreSQL), logged in as a county administrator, and fails on any 5xx.

A refusal (400, 401, 403, 404, 409, 422) is a right answer to a generated request; a 503 would
mean a service did not answer in time, which here is a fault too (``not_a_server_error``)."""
import re
import subprocess
import sys
from pathlib import Path

import eventlet
import pytest

from gateway_http import running_gateway
from shared import plugins

pytestmark = pytest.mark.integration
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES_PER_OPERATION = 8
ARTEFACT = Path(__file__).resolve().parents[3] / "var" / "test-logs" / "schemathesis.txt"
SKIPPED = "/api/v1/auth/logout"          # would revoke the token the run uses


@pytest.fixture
def api(amqp_uri, pg_url_factory):
    classes = tuple(plugins.services().values())
    with running_gateway(amqp_uri, pg_url_factory, classes,
                         login={"max_failures": 1000}) as client:
        yield client


def run(command, timeout, folder):
    """The command's (exit code, output), waiting without blocking the services running in
    this process (eventlet); its output goes through a file, never a pipe it could fill."""
    log = folder / "schemathesis-output.txt"
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=folder)
        waited = 0.0
        while process.poll() is None and waited < timeout:
            eventlet.sleep(0.5)
            waited += 0.5
        if process.poll() is None:
            process.kill()
        code = process.wait()
    return code, log.read_text("utf-8", "replace")


@pytest.mark.timeout(1200)
def test_no_generated_request_gets_a_server_error(api, tmp_path):
    api.user("fuzzer", "county_admin")
    assert api.login("fuzzer").status_code == 200
    code, output = run([str(SCHEMATHESIS), "run", f"{api.base}/api/v1/openapi.json",
                        "--checks", "not_a_server_error", "--phases", "examples,fuzzing",
                        "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "20261127",
                        "--workers", "2", "--request-timeout", "20",
                        "--exclude-path", SKIPPED,
                        "-H", f"Authorization: Bearer {api.token}",
                        "--report", "junit", "--report-dir", str(tmp_path)], timeout=1100,
                       folder=tmp_path)
    ARTEFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTEFACT.write_text(output)
    assert code == 0, f"schemathesis found problems (whole report: {ARTEFACT}):\n" + \
        problems(output)
    assert re.search(r"\b[1-9]\d* generated, [1-9]\d* passed", output), output[-3000:]


def problems(output: str) -> str:
    """The report's failures and errors sections (its warnings are left out)."""
    start = min((i for i in (output.find("FAILURES"), output.find("ERRORS")) if i >= 0),
                default=0)
    end = output.find("WARNINGS", start)
    return output[start:end if end > start else None][:12000]
