"""One row's world: a broker vhost, two PostgreSQL databases (members, stars) created for it and
dropped after, a small county seeded in members, a config file in a temporary folder, and real
``jiceng serve members`` / ``jiceng serve stars`` processes reading it."""
import os
import subprocess
import sys
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import yaml
from kombu import Connection
from sqlalchemy import func, select

from chaos.processes import DatabaseProxy, HarnessError, ServiceProcess, wait_until
from services.members import records, schemas
from services.members import resident_id as rid
from services.members.service import MembersService
from services.stars.models import Subject
from services.stars.service import StarsService
from shared import config as config_module
from shared import db, migrate
from shared.bus import topology
from shared.bus.rpc import rpc_client
from shared.bus.store import declare_all
from shared.config import ROOT
from tests.support import broker as test_broker

PARTITIONS = 4
SUBSCRIPTION = topology.dynamic_queue_name("stars", "on_events")
PARTITION_QUEUES = [topology.partition_queue_name(SUBSCRIPTION, i) for i in range(PARTITIONS)]
RETRY_DELAYS_MS = [1000, 3000, 10000]
TOWNSHIPS, BRANCHES, MEMBERS_PER_BRANCH = 6, ("village_branch", "community_branch",
                                              "institution_branch"), 10


class MainBroker:
    """The machine's RabbitMQ (with its management API): a vhost of the row's own."""

    def __init__(self):
        self.vhost = test_broker.create_vhost("jiceng-chaos")
        self.amqp_uri = test_broker.amqp_uri(self.vhost)

    def close_connections(self, reason="chaos: connections closed by the suite") -> int:
        """``rabbitmqctl close_all_connections -p VHOST``; returns how many were open."""
        try:
            open_before = len(test_broker.connections(self.vhost))
        except Exception:
            open_before = -1
        done = subprocess.run(["rabbitmqctl", "close_all_connections", "-p", self.vhost, reason],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise HarnessError(f"rabbitmqctl close_all_connections failed: {done.stderr[-500:]}")
        return open_before

    def close(self):
        test_broker.delete_vhost(self.vhost)


class OwnBroker:
    """A RabbitMQ node the suite started (``processes.RabbitNode``), its default vhost."""

    def __init__(self, node):
        self.node = node
        self.amqp_uri = node.amqp_uri

    def close(self):
        pass


def seed_county(url) -> list[int]:
    """City -> ``TOWNSHIPS`` townships -> 3 branches each -> ``MEMBERS_PER_BRANCH`` members each,
    written by members' own domain code (its events go to the outbox); returns the member ids."""
    handle = MembersService.store.handle(url, source="members")
    members = []
    number = 0
    with handle.transaction() as session:
        city = records.create_unit(session, {"parent_id": None, "kind": "city_committee",
                                             "name": "混沌县委"})
        for t in range(TOWNSHIPS):
            town = records.create_unit(session, {"parent_id": city.id, "name": f"混沌{t + 1}镇党委",
                                                 "kind": "township_committee"})
            for b, kind in enumerate(BRANCHES):
                branch = records.create_unit(session, {"parent_id": town.id, "kind": kind,
                                                       "name": f"混沌{t + 1}镇第{b + 1}支部"})
                for _ in range(MEMBERS_PER_BRANCH):
                    number += 1
                    born = date(1960, 1, 1).toordinal() + number * 37
                    born = date.fromordinal(born)
                    gender = "male" if number % 2 else "female"
                    data = schemas.load(schemas.MemberInput, {
                        "name": f"成员{number:04d}", "gender": gender, "ethnicity": "汉族",
                        "birth_date": born.isoformat(),
                        "resident_id": rid.make("130900", born, number % 100, gender),
                        "join_date": "2015-07-01", "status": "full", "branch_id": branch.id})
                    members.append(records.register_member(session, data).id)
    return members


def _via_port(url, port) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


class Env:
    """``Env(folder, broker, stars=1, db_proxy=False).setup()`` ... ``close()``."""

    def __init__(self, folder, broker, stars=1, db_proxy=False, bus=None, log_level=None):
        self.folder = folder
        self.broker = broker
        self.stars_count = stars
        self.db_proxy = db_proxy
        self.bus = bus or {}
        self.log_level = log_level or os.environ.get("CHAOS_LOG_LEVEL", "INFO")
        self.urls = {}
        self.proxy = None
        self.processes = {"members": [], "stars": []}
        self.member_ids = []
        self._started = 0

    # -- set-up ---------------------------------------------------------------------------------
    def setup(self):
        self.urls = {name: test_broker.create_pg_database("jiceng_chaos")
                     for name in ("members", "stars")}
        migrate.upgrade(MembersService, self.urls["members"])
        migrate.upgrade(StarsService, self.urls["stars"])
        self.member_ids = seed_county(self.urls["members"])
        served = dict(self.urls)
        if self.db_proxy:
            target = urlsplit(self.urls["stars"])
            self.proxy = DatabaseProxy(target.hostname, target.port or 5432,
                                       os.path.join(self.folder, "pgproxy.log"))
            served["stars"] = _via_port(self.urls["stars"], self.proxy.port)
        self.config = config_module.with_defaults({
            "AMQP_URI": self.broker.amqp_uri,
            "max_workers": 10,
            "bus": {"rpc_timeout_seconds": 5, "retry_delays_ms": RETRY_DELAYS_MS,
                    "relay_poll_seconds": 0.2, "relay_batch_size": 200, "batch_size": 200,
                    "batch_wait_ms": 50, "partition_claim_seconds": 1, **self.bus},
            "stars": {"partitions": PARTITIONS},
            "services": {name: {"database_url": url} for name, url in served.items()},
        })
        self.config_path = os.path.join(self.folder, "config.yaml")
        with open(self.config_path, "w") as handle:
            yaml.safe_dump(self.config, handle, allow_unicode=True)
        declare_all(self.config)
        self.start("members")
        for _ in range(self.stars_count):
            self.start("stars")
        self.wait_healthy()
        wait_until(self.county_placed, 90, 0.25, "stars to place the seeded county")
        return self

    def county_placed(self) -> bool:
        with db.database(self.urls["stars"]).reading() as session:
            placed = session.scalar(select(func.count()).select_from(Subject).where(
                Subject.kind == "member"))
        return placed == len(self.member_ids)

    # -- processes -------------------------------------------------------------------------------
    def start(self, name) -> ServiceProcess:
        self._started += 1
        process = ServiceProcess(name, self.config_path,
                                 os.path.join(self.folder, f"{name}-{self._started}.log"),
                                 self.log_level)
        self.processes[name].append(process)
        return process

    def check_alive(self):
        """``HarnessError`` when a service process ended without the suite stopping it."""
        for process in self.processes["members"] + self.processes["stars"]:
            if not process.alive and not process.stopped_by_suite:
                raise HarnessError(f"{process.name} (pid {process.pid}) exited by itself with "
                                   f"code {process.process.returncode}; its log ends:\n"
                                   f"{process.tail(12)}")

    def running(self, name) -> list[ServiceProcess]:
        return [p for p in self.processes[name] if p.alive]

    def wait_healthy(self, names=("members", "stars"), timeout=90):
        def answering():
            for process in (p for name in names for p in self.processes[name]):
                if not process.alive and process.process.returncode not in (0, -9, -15):
                    raise HarnessError(f"{process.name} exited with {process.process.returncode}:"
                                       f"\n{process.tail()}")
            try:
                with rpc_client(self.config, timeout=2) as cluster:
                    return all(getattr(cluster, name).health() for name in names)
            except Exception:
                return False
        wait_until(answering, timeout, 0.3, f"{', '.join(names)} to answer health")

    # -- broker ----------------------------------------------------------------------------------
    def depths(self, queues) -> dict:
        with Connection(self.config["AMQP_URI"], connect_timeout=5) as connection:
            found = {}
            for queue in queues:
                channel = connection.channel()
                try:
                    ok = channel.queue_declare(queue, passive=True)
                    found[queue] = (ok.message_count, ok.consumer_count)
                except Exception:
                    found[queue] = (None, None)
                finally:
                    try:
                        channel.close()
                    except Exception:
                        pass
            return found

    def dead_letters(self) -> int:
        found = self.depths([topology.dead_letter_queue_name(q) for q in PARTITION_QUEUES])
        return sum(n or 0 for n, _ in found.values())

    def delay_queues(self) -> list[str]:
        """The retry (delay) queues of this config's retry policy."""
        try:
            from shared.bus.retry import policy
            delays = policy(self.config["bus"]).delay_queues_ms
        except ImportError:           # the older rule: one delay queue per listed delay
            delays = self.config["bus"]["retry_delays_ms"]
        return [topology.delay_name(ms) for ms in delays]

    def waiting_retries(self) -> int:
        found = self.depths(self.delay_queues())
        return sum(n or 0 for n, _ in found.values())

    def queued(self) -> int:
        return sum(n or 0 for n, _ in self.depths(PARTITION_QUEUES).values())

    def replay_dead_letters(self) -> str:
        """``jiceng dlq replay SUBSCRIPTION --all``, as an operator would run it."""
        done = subprocess.run([sys.executable, "-m", "shared.cli", "dlq", "replay", SUBSCRIPTION,
                               "--all", "--config", self.config_path], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, LOG_LEVEL="WARNING"))
        if done.returncode != 0:
            raise HarnessError(f"jiceng dlq replay failed: {done.stderr[-800:]}")
        return done.stdout

    # -- tear-down -------------------------------------------------------------------------------
    def close(self):
        for process in self.processes["members"] + self.processes["stars"]:
            if process.alive:
                process.stop(timeout=20)
        if self.proxy is not None:
            self.proxy.close()
        for url in self.urls.values():
            try:
                test_broker.drop_pg_database(url)
            except Exception:
                pass
        self.broker.close()

    def log_lines(self, name, text) -> int:
        """How many lines of ``name``'s service logs contain ``text``."""
        found = 0
        for process in self.processes[name]:
            try:
                with open(process.log_path, encoding="utf-8", errors="replace") as handle:
                    found += sum(1 for line in handle if text in line)
            except OSError:
                pass
        return found

    def logs(self) -> list[str]:
        return [p.log_path for name in ("members", "stars") for p in self.processes[name]]
