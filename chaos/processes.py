"""The real processes a chaos row works with: service processes (``python -m shared.cli serve
NAME``), the database proxy (``chaos.pgproxy``) and a RabbitMQ node of the suite's own."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

from shared.config import ROOT


class HarnessError(RuntimeError):
    """The suite itself could not do what a row needs (not a finding about the services)."""


def wait_until(predicate, timeout, interval=0.2, message="condition"):
    """Poll ``predicate`` until it is true; ``HarnessError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port, host="127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def finished(process, timeout) -> bool:
    """Whether ``process`` ended within ``timeout`` s (polled: eventlet's patched ``Popen.wait``
    raises another module's ``TimeoutExpired``)."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


class ServiceProcess:
    """One ``python -m shared.cli serve NAME --config PATH``, its output in ``log_path``."""

    def __init__(self, name, config_path, log_path, log_level="INFO"):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "a")
        env = dict(os.environ, LOG_LEVEL=log_level, PYTHONUNBUFFERED="1")
        env.pop("JICENG_CONFIG", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "serve", name, "--config", str(config_path)],
            cwd=str(ROOT), env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        self.stopped_by_suite = False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, signum):
        if self.alive:
            os.kill(self.pid, signum)

    def kill9(self):
        self.stopped_by_suite = True
        self.send(signal.SIGKILL)
        finished(self.process, 30)
        self._log.close()

    def stop(self, timeout=30) -> int | None:
        """SIGTERM, then the exit code (SIGKILL after ``timeout`` s: returns None)."""
        self.stopped_by_suite = True
        self.send(signal.SIGTERM)
        if not finished(self.process, timeout):
            self.process.kill()
            finished(self.process, 10)
            self._log.close()
            return None
        self._log.close()
        return self.process.returncode

    def tail(self, lines=30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""


class DatabaseProxy:
    """``chaos.pgproxy`` on a free port in front of ``target``; ``refuse()`` / ``accept()``."""

    def __init__(self, target_host, target_port, log_path):
        self.port = free_port()
        self._log = open(log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chaos.pgproxy", str(self.port), target_host, str(target_port)],
            cwd=str(ROOT), stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: port_open(self.port), 15, 0.1, "the database proxy to listen")

    def refuse(self):
        os.kill(self.process.pid, signal.SIGUSR1)
        wait_until(lambda: not port_open(self.port), 10, 0.05, "the proxy to refuse")

    def accept(self):
        os.kill(self.process.pid, signal.SIGUSR2)
        wait_until(lambda: port_open(self.port), 10, 0.05, "the proxy to accept")

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            if not finished(self.process, 5):
                self.process.kill()
        self._log.close()


class RabbitNode:
    """A RabbitMQ node of the suite's own (``chaos@localhost``) on free ports, with its data
    and logs in ``folder`` and only the consistent-hash exchange plugin (partitioned batch
    subscriptions need it). Started with ``rabbitmq-server`` (the Debian wrapper runs it as
    the ``rabbitmq`` user when called by root), stopped with ``rabbitmqctl -n NODE stop``."""

    NODE = "chaos@localhost"

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        self.port = free_port()
        self.dist_port = free_port()
        self.process = None
        os.makedirs(self.folder, exist_ok=True)
        for sub in ("mnesia", "log", "plugins-expand"):
            os.makedirs(os.path.join(self.folder, sub), exist_ok=True)
        with open(os.path.join(self.folder, "enabled_plugins"), "w") as handle:
            handle.write("[rabbitmq_consistent_hash_exchange].\n")
        with open(os.path.join(self.folder, "rabbitmq.conf"), "w") as handle:
            handle.write(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        self._give_to_rabbitmq()

    @staticmethod
    def available() -> str | None:
        """Why this machine cannot run a node of its own (None: it can)."""
        for tool in ("rabbitmq-server", "rabbitmqctl"):
            if shutil.which(tool) is None:
                return f"{tool} is not installed"
        if os.geteuid() != 0:
            try:
                if pwd.getpwuid(os.geteuid()).pw_name != "rabbitmq":
                    return "rabbitmq-server must be started by root or the rabbitmq user"
            except KeyError:
                return "rabbitmq-server must be started by root or the rabbitmq user"
        return None

    def _give_to_rabbitmq(self):
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam("rabbitmq")
        except KeyError:
            return
        parent = os.path.dirname(self.folder)   # the node's user must reach its folder
        os.chmod(parent, os.stat(parent).st_mode | 0o711)
        for root, dirs, files in os.walk(self.folder):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, user.pw_uid, user.pw_gid)

    @property
    def environment(self) -> dict:
        return dict(os.environ,
                    RABBITMQ_NODENAME=self.NODE,
                    RABBITMQ_NODE_PORT=str(self.port),
                    RABBITMQ_DIST_PORT=str(self.dist_port),
                    RABBITMQ_MNESIA_BASE=os.path.join(self.folder, "mnesia"),
                    RABBITMQ_LOG_BASE=os.path.join(self.folder, "log"),
                    RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.folder, "enabled_plugins"),
                    RABBITMQ_PLUGINS_EXPAND_DIR=os.path.join(self.folder, "plugins-expand"),
                    RABBITMQ_CONFIG_FILE=os.path.join(self.folder, "rabbitmq.conf"))

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args, timeout=60) -> subprocess.CompletedProcess:
        return subprocess.run(["rabbitmqctl", "-n", self.NODE, *args], capture_output=True,
                              text=True, timeout=timeout, env=self.environment)

    def start(self, timeout=90):
        if self.ctl("status", timeout=30).returncode == 0:   # left over from an earlier run
            self.ctl("stop", timeout=60)
        log = open(os.path.join(self.folder, "server.out"), "a")
        self.process = subprocess.Popen(["rabbitmq-server"], env=self.environment, stdout=log,
                                        stderr=subprocess.STDOUT, cwd="/")
        log.close()
        deadline = time.monotonic() + timeout
        while True:      # await_startup gives up at once while the node is not registered yet
            done = self.ctl("await_startup", "--timeout", "10", timeout=30)
            if done.returncode == 0 and port_open(self.port):
                return
            if self.process.poll() is not None or time.monotonic() >= deadline:
                raise HarnessError(f"RabbitMQ node {self.NODE} did not start: "
                                   f"{done.stdout[-300:]} {done.stderr[-300:]}")
            time.sleep(1)

    def stop(self):
        self.ctl("stop", timeout=60)
        if self.process is not None:
            finished(self.process, 30)
            if self.process.poll() is None:
                self.process.kill()
            self.process = None
