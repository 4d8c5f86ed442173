"""The tickets service's settings: the rules in ``config/tickets.yaml`` (a top-level ``tickets:``
mapping in the environment config overrides any of them, key by key) and the runtime keys under
``services.tickets`` of the environment config:

* ``open311_api_keys``: the keys city systems POST Open311 requests with (through the
  gateway's ``/open311`` endpoint), ``client:key`` separated by commas (a string, from
  ``TICKETS_OPEN311_API_KEYS``) or a list; none: POST is refused with 403.
* ``scan_interval_seconds``: how often the time-limit scheduler runs (default 60).
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field

from nameko.extensions import DependencyProvider

from shared import config as config_module
from services.tickets.workdays import WorkCalendar

DEFAULT_SCAN_SECONDS = 60.0


def _merge(base: dict, override: dict) -> dict:
    merged = deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = deepcopy(value)
    return merged


def api_keys(value) -> dict[str, str]:
    """``"client:key, other:key2"`` (or a list of such strings) as ``{key: client}``."""
    if not value:
        return {}
    entries = value.split(",") if isinstance(value, str) else list(value)
    keys = {}
    for entry in entries:
        client, _, key = str(entry).strip().partition(":")
        if key.strip():
            keys[key.strip()] = client.strip() or "open311"
    return keys


@dataclass
class Settings:
    rules: dict
    scan_interval_seconds: float = DEFAULT_SCAN_SECONDS
    open311_keys: dict = field(default_factory=dict)
    calendar: WorkCalendar = None

    def __post_init__(self):
        if self.calendar is None:
            self.calendar = WorkCalendar(self.rules.get("holiday_notices"))

    def rule(self, section: str, key: str):
        return self.rules[section][key]

    @property
    def warn_before_days(self) -> int:
        return int(self.rule("time_limits", "warn_before_days"))

    @property
    def escalate_on_breach(self) -> bool:
        return bool(self.rule("time_limits", "escalate_on_breach"))

    @property
    def reopen_window_days(self) -> int:
        return int(self.rule("lifecycle", "reopen_window_days"))

    @property
    def auto_close_days(self) -> int:
        return int(self.rule("lifecycle", "auto_close_days"))

    @property
    def consent_max_age_days(self) -> int:
        return int(self.rule("consent", "max_age_days"))

    @property
    def consent_methods(self) -> tuple[str, ...]:
        return tuple(self.rule("consent", "methods"))

    @property
    def jurisdiction_id(self) -> str:
        return str(self.rule("open311", "jurisdiction_id"))

    @property
    def catalogue(self) -> list[dict]:
        return list(self.rules.get("catalogue") or [])


def load(config: dict | None = None) -> Settings:
    config = config or {}
    rules = _merge(config_module.load_yaml("tickets.yaml"), config.get("tickets") or {})
    runtime = config_module.service_section(config, "tickets")
    return Settings(
        rules=rules,
        scan_interval_seconds=float(runtime.get("scan_interval_seconds") or DEFAULT_SCAN_SECONDS),
        open311_keys=api_keys(runtime.get("open311_api_keys")))


class TicketSettings(DependencyProvider):
    """The settings as a nameko dependency, loaded once per container."""

    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings
