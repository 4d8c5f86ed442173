"""The demo month after ``make run``: ``jiceng run --demo`` as a user starts it, on SQLite.

``demo_month(amqp, scale)`` runs ``python -m shared.cli run --demo --demo-scale SCALE --config
config/dev.yaml`` (what ``make run`` runs) in a subprocess, with the environment pointing the
config at a throw-away vhost (``AMQP_URI``) and at SQLite files in a temporary folder
(``MEMBERS_DATABASE_URL``, ``STARS_DATABASE_URL``). It is timed from the start of the command
(migrations, the demo load, service start-up included) until the stars service's
``scored_events`` holds every activity of the demo. ``jiceng run`` serves each service in its own
process (``python -m shared.cli serve NAME``): their peak resident memory (``VmHWM`` of
``/proc/PID/status``) is read when the demo is absorbed, before the command is stopped. If
``timeout`` passes first, the run is stopped and ``extrapolated_s`` gives the whole demo at the
rate scored since the demo was loaded.

Run alone: ``.venv/bin/python -m bench.demo_run [scale]``.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())
from shared.config import ROOT  # noqa: E402

PID_LINE = re.compile(r"^\s+(\w+)\s+pid (\d+)\s", re.M)
LOADED = re.compile(r"demo data for members loaded in [\d.]+ s: (\{.*\})")


def vm_hwm_mb(pid) -> float | None:
    """Peak resident set size of a live process (``VmHWM``), in MB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def finished(process, timeout) -> bool:
    """Whether ``process`` ended within ``timeout`` s (polled: under eventlet's monkey patching
    ``Popen.wait(timeout=)`` raises a ``TimeoutExpired`` of another copy of ``subprocess``)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def stop(process, timeout=60, signum=signal.SIGINT):
    """Signal ``process``, then kill it if it has not ended within ``timeout`` s."""
    if process.poll() is None:
        process.send_signal(signum)
        if not finished(process, timeout):
            process.kill()
            process.wait()


def _read(path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def bare_rss_mb() -> float:
    """Peak RSS of an interpreter that imported what a service process imports (``shared.cli``
    with eventlet patched, both services, nameko) and did nothing else: the floor of each."""
    code = ("import warnings; warnings.filterwarnings('ignore'); import eventlet; "
            "eventlet.monkey_patch(); import shared.cli, nameko.runners, shared.bus.store, "
            "services.members.service, services.stars.service; from bench.demo_run import "
            "vm_hwm_mb; import os; print(vm_hwm_mb(os.getpid()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True,
                         text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def _scored(path) -> int:
    if not os.path.exists(path):
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM scored_events").fetchone()[0]
    except sqlite3.Error:
        return 0


def demo_month(amqp, scale=1.0, timeout=900) -> dict:
    """Seconds from ``jiceng run --demo`` until stars has scored every demo activity; the peak
    RSS of each service process."""
    folder = tempfile.mkdtemp(prefix="jiceng-bench-run-")
    stars_db = os.path.join(folder, "stars.db")
    log_path = os.path.join(folder, "run.log")
    env = dict(os.environ, AMQP_URI=amqp, LOG_LEVEL="WARNING",
               MEMBERS_DATABASE_URL=f"sqlite:///{folder}/members.db",
               STARS_DATABASE_URL=f"sqlite:///{stars_db}")
    env.pop("JICENG_CONFIG", None)
    log = open(log_path, "w")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "run", "--demo", "--demo-scale", str(scale),
         "--config", str(ROOT / "config" / "dev.yaml")],
        cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
    result = {"scale": scale, "database": "sqlite", "config": "config/dev.yaml"}
    try:
        activities = loaded_at = None
        deadline = time.monotonic() + timeout
        scored = 0
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jiceng run exited with {process.returncode}:\n"
                                   + _read(log_path)[-3000:])
            if activities is None:
                found = LOADED.search(_read(log_path))
                if found:
                    summary = json.loads(found.group(1))
                    activities, loaded_at = summary["activities"], time.perf_counter() - started
                    result["demo"] = summary
            else:
                scored = _scored(stars_db)
                if scored and "first_scored_s" not in result:
                    result["first_scored_s"] = time.perf_counter() - started
                if scored >= activities:
                    break
            if time.monotonic() >= deadline:
                if not scored:
                    raise RuntimeError(f"nothing scored within {timeout} s:\n"
                                       + _read(log_path)[-3000:])
                # stopped: the rest at the rate since the demo was loaded
                elapsed = time.perf_counter() - started
                result["stopped_after_s"], result["scored"] = elapsed, scored
                result["extrapolated_s"] = loaded_at + (elapsed - loaded_at) * activities / scored
                break
            time.sleep(0.5)
        result["seconds"] = time.perf_counter() - started
        result["load_s"] = loaded_at
        result["activities"] = activities
        pids = {}
        for _ in range(40):  # the table is printed once every service answers health
            pids = {name: int(pid) for name, pid in PID_LINE.findall(_read(log_path))}
            if pids:
                break
            time.sleep(0.25)
        result["peak_rss_mb"] = {name: vm_hwm_mb(pid) for name, pid in pids.items()}
        return result
    finally:
        stop(process)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    from tests.support import broker
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    vhost = broker.create_vhost("jiceng-bench")
    try:
        found = demo_month(broker.amqp_uri(vhost), scale)
    finally:
        broker.delete_vhost(vhost)
    print(json.dumps(found, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
