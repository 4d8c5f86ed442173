"""Configuration: one YAML file per environment, with ``${VAR}`` and ``${VAR:default}``
substituted from the environment before parsing, so that ``${PORT:5672}`` becomes a number.

The loaded dict is also the nameko container config, so nameko's own keys (``AMQP_URI``,
``max_workers``) sit at the top level beside ours (``bus``, ``services``, ``members``...).
"""
import os
import re
from copy import deepcopy
from pathlib import Path

import yaml

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")
ROOT = Path(__file__).resolve().parent.parent

BUS_DEFAULTS = {
    "rpc_timeout_seconds": 10,
    # retries: ``retry: {attempts, base_ms, max_ms, jitter}`` or the older ``retry_delays_ms``
    # list; neither given: ``shared.bus.retry.DEFAULT`` (read with ``retry.policy(bus)``)
    "relay_poll_seconds": 0.5,
    "relay_batch_size": 200,
    "declare_topology": True,
    "batch_size": 500,                # @subscribe_batch: at most this many events per batch...
    "batch_wait_ms": 50,              # ...or what arrived this long after a batch's first event
    "partition_claim_seconds": 2,     # how often a process rebalances the partitions it holds
}


class ConfigError(ValueError):
    pass


def substitute(text: str, environ=None) -> str:
    environ = os.environ if environ is None else environ

    def replace(match):
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is None:
            raise ConfigError(f"environment variable {name} is required by the config and not set")
        return default

    return VARIABLE.sub(replace, text)


def load(path=None, environ=None) -> dict:
    """Load ``path`` (default: ``$JICENG_CONFIG`` or ``config/dev.yaml``), substituted and parsed."""
    path = Path(path or os.environ.get("JICENG_CONFIG") or ROOT / "config" / "dev.yaml")
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    config = yaml.safe_load(substitute(path.read_text(encoding="utf-8"), environ)) or {}
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return with_defaults(config)


def with_defaults(config: dict) -> dict:
    config = deepcopy(config)
    config.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    config["bus"] = {**BUS_DEFAULTS, **(config.get("bus") or {})}
    config.setdefault("services", {})
    return config


def service_section(config: dict, service_name: str) -> dict:
    return (config.get("services") or {}).get(service_name) or {}


def database_url(config: dict, service_name: str) -> str:
    url = service_section(config, service_name).get("database_url")
    if not url:
        url = f"sqlite:///{ROOT / 'var' / (service_name + '.db')}"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///"):]
        if relative != ":memory:":
            url = f"sqlite:///{ROOT / relative}"
    return url


def load_yaml(relative_path: str) -> dict:
    """Read a rulebook or defaults file under ``config/`` (no substitution)."""
    return yaml.safe_load((ROOT / "config" / relative_path).read_text(encoding="utf-8")) or {}
