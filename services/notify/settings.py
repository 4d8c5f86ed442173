"""The notify service's settings: ``config/notify.yaml`` merged with the running config's
top-level ``notify:`` section (mappings key by key), checked once at start-up.

``load(config)`` raises ``ValueError("notify.<key path>: <reason>")`` naming the first wrong
key, so a deployment with a typo in a template or a channel stops at once instead of sending
nothing. Templates are checked against the contract registry: the event must be registered and
every placeholder must be a field of its payload, a label or a unit name (``templates.names``).
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path

from nameko.extensions import DependencyProvider

from services.notify import recipients as recipient_rules
from services.notify import sealing
from services.notify import templates as template_rules
from services.notify.backoff import Policy
from shared import config as config_module
from shared.contracts import registry

CHANNELS = ("file", "sms_http")
SERVICE = "notify"


@dataclass(frozen=True)
class Template:
    name: str
    source: str
    type: str
    text: str
    recipients: tuple          # recipient rules (``recipients.parse_rule``)


@dataclass(frozen=True)
class SmsHttp:
    url: str | None
    timeout_seconds: float
    headers: dict
    token: str | None
    token_header: str
    token_prefix: str


@dataclass(frozen=True)
class Sender:
    interval_seconds: float
    batch_size: int
    concurrency: int
    lease_seconds: float
    keep_days: float


@dataclass(frozen=True)
class Webhooks:
    timeout_seconds: float
    allowed_schemes: tuple
    max_active: int
    secret_key: bytes | None = None     # seals secrets at rest (``sealing``); None: not sealed


@dataclass(frozen=True)
class Settings:
    channel: str
    file_directory: Path
    sms_http: SmsHttp
    sender: Sender
    retry: Policy
    webhooks: Webhooks
    max_age_hours: float
    date_format: str
    missing: str
    labels: dict
    contacts: dict             # unit id -> tuple of recipients.Recipient
    templates: tuple           # Template, in config order
    by_event: dict = field(default_factory=dict)   # (source, type) -> [Template]

    def templates_for(self, source: str, event_type: str) -> list[Template]:
        return self.by_event.get((source, event_type), [])


def _merge(base: dict, override: dict) -> dict:
    merged = deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = deepcopy(value)
    return merged


def _number(raw: dict, key: str, path: str, minimum: float, maximum: float, whole=False):
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (whole and not isinstance(value, int)) or not minimum <= value <= maximum:
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{path}.{key}: must be {kind} from {minimum} to {maximum}")
    return value


def _mapping(raw, path: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: must be a mapping")
    return raw


def merged(config: dict | None = None) -> dict:
    """``config/notify.yaml`` merged with the config's ``notify:`` section, unchecked."""
    return _merge(config_module.load_yaml("notify.yaml"), (config or {}).get(SERVICE) or {})


def load(config: dict | None = None) -> Settings:
    """The settings of a running config (``config/notify.yaml`` when it has no ``notify:``)."""
    raw = merged(config)
    path = SERVICE
    channel = raw.get("channel")
    if channel not in CHANNELS:
        raise ValueError(f"{path}.channel: must be one of {', '.join(CHANNELS)}")
    sms = _sms_http(_mapping(raw.get("sms_http"), f"{path}.sms_http"), f"{path}.sms_http")
    if channel == "sms_http" and not sms.url:
        raise ValueError(f"{path}.sms_http.url: required when channel is sms_http")
    labels = _labels(_mapping(raw.get("labels"), f"{path}.labels"), f"{path}.labels")
    messages = _mapping(raw.get("messages"), f"{path}.messages")
    templates = _templates(_mapping(raw.get("templates"), f"{path}.templates"), labels,
                           f"{path}.templates")
    by_event: dict = {}
    for template in templates:
        by_event.setdefault((template.source, template.type), []).append(template)
    return Settings(
        channel=channel,
        file_directory=_directory(_mapping(raw.get("file"), f"{path}.file"), f"{path}.file"),
        sms_http=sms,
        sender=_sender(_mapping(raw.get("sender"), f"{path}.sender"), f"{path}.sender"),
        retry=_retry(_mapping(raw.get("retry"), f"{path}.retry"), f"{path}.retry"),
        webhooks=_webhooks(_mapping(raw.get("webhooks"), f"{path}.webhooks"), f"{path}.webhooks"),
        max_age_hours=_number(messages, "max_age_hours", f"{path}.messages", 0.01, 24 * 365),
        date_format=_text(messages, "date_format", f"{path}.messages"),
        missing=_text(messages, "missing", f"{path}.messages", allow_empty=True),
        labels=labels,
        contacts=_contacts(_mapping(raw.get("contacts"), f"{path}.contacts"), f"{path}.contacts"),
        templates=templates,
        by_event=by_event)


def _text(raw: dict, key: str, path: str, allow_empty=False) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ValueError(f"{path}.{key}: must be text")
    return value


def _directory(raw: dict, path: str) -> Path:
    folder = Path(_text(raw, "directory", path))
    return folder if folder.is_absolute() else config_module.ROOT / folder


def _sms_http(raw: dict, path: str) -> SmsHttp:
    headers = _mapping(raw.get("headers"), f"{path}.headers")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ValueError(f"{path}.headers: names and values must be text")
    url = raw.get("url") or None          # "" from an unset ${VAR:} is no URL
    if url is not None and (not isinstance(url, str)
                            or not url.startswith(("http://", "https://"))):
        raise ValueError(f"{path}.url: must be an http:// or https:// URL")
    token = raw.get("token") or None
    if token is not None and not isinstance(token, str):
        raise ValueError(f"{path}.token: must be text")
    return SmsHttp(url=url or None,
                   timeout_seconds=_number(raw, "timeout_seconds", path, 0.1, 120),
                   headers=dict(headers), token=token or None,
                   token_header=_text(raw, "token_header", path),
                   token_prefix=_text(raw, "token_prefix", path, allow_empty=True))


def _sender(raw: dict, path: str) -> Sender:
    return Sender(interval_seconds=_number(raw, "interval_seconds", path, 0.01, 3600),
                  batch_size=_number(raw, "batch_size", path, 1, 10_000, whole=True),
                  concurrency=_number(raw, "concurrency", path, 1, 200, whole=True),
                  lease_seconds=_number(raw, "lease_seconds", path, 1, 86_400),
                  keep_days=_number(raw, "keep_days", path, 1, 3650))


def _retry(raw: dict, path: str) -> Policy:
    return Policy(max_attempts=_number(raw, "max_attempts", path, 1, 100, whole=True),
                  base_seconds=_number(raw, "base_seconds", path, 0.001, 86_400),
                  max_seconds=_number(raw, "max_seconds", path, 0.001, 7 * 86_400),
                  jitter=_number(raw, "jitter", path, 0, 1))


def _webhooks(raw: dict, path: str) -> Webhooks:
    schemes = raw.get("allowed_schemes")
    if not isinstance(schemes, list) or not schemes \
            or not set(schemes) <= {"http", "https"}:
        raise ValueError(f"{path}.allowed_schemes: a list of http and/or https")
    try:
        key = sealing.key_from(raw.get("secret_key"))
    except ValueError as exc:
        raise ValueError(f"{path}.secret_key: {exc}") from None
    return Webhooks(timeout_seconds=_number(raw, "timeout_seconds", path, 0.1, 120),
                    allowed_schemes=tuple(schemes),
                    max_active=_number(raw, "max_active", path, 1, 100_000, whole=True),
                    secret_key=key)


def _labels(raw: dict, path: str) -> dict:
    labels = {}
    for name, words in raw.items():
        words = _mapping(words, f"{path}.{name}")
        if not all(isinstance(w, str) for w in words.values()):
            raise ValueError(f"{path}.{name}: every label is text")
        labels[str(name)] = {template_rules.label_key(k): w for k, w in words.items()}
    return labels


def _contacts(raw: dict, path: str) -> dict:
    contacts = {}
    for unit, entries in raw.items():
        try:
            unit_id = int(unit)
        except (TypeError, ValueError):
            raise ValueError(f"{path}.{unit}: the key is an organisation unit id") from None
        if not isinstance(entries, list):
            raise ValueError(f"{path}.{unit}: a list of {{phone, name}}")
        found = []
        for index, entry in enumerate(entries):
            entry = {"phone": entry} if isinstance(entry, (str, int)) else entry
            if not isinstance(entry, dict):
                raise ValueError(f"{path}.{unit}[{index}]: a phone or {{phone, name}}")
            phone = recipient_rules.normalise_phone(str(entry.get("phone", "")))
            if phone is None:
                raise ValueError(f"{path}.{unit}[{index}].phone: not a phone number")
            found.append(recipient_rules.Recipient(phone, entry.get("name")))
        contacts[unit_id] = tuple(found)
    return contacts


def _templates(raw: dict, labels: dict, path: str) -> tuple:
    found = []
    for name, spec in raw.items():
        where = f"{path}.{name}"
        spec = _mapping(spec, where)
        unknown = set(spec) - {"event", "text", "recipients"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        source, _, event_type = str(spec.get("event", "")).partition(".")
        try:
            contract = registry.get(source, event_type)
        except LookupError:
            raise ValueError(f"{where}.event: {spec.get('event')!r} is not a registered "
                             "contract (source.type)") from None
        if source == SERVICE:
            raise ValueError(f"{where}.event: notify's own events cannot be turned into messages")
        text = _text(spec, "text", where)
        fields = set(contract.schema().fields)
        unknown = template_rules.placeholders(text) - template_rules.names(fields, labels)
        if unknown:
            raise ValueError(f"{where}.text: unknown placeholder(s) "
                             f"{', '.join('{' + n + '}' for n in sorted(unknown))} for "
                             f"{source}.{event_type}")
        rules = spec.get("recipients")
        if not isinstance(rules, list) or not rules:
            raise ValueError(f"{where}.recipients: a list of at least one rule")
        parsed = []
        for index, rule in enumerate(rules):
            try:
                parsed.append(recipient_rules.parse_rule(rule, fields))
            except ValueError as exc:
                raise ValueError(f"{where}.recipients[{index}]: {exc}") from None
        found.append(Template(str(name), source, event_type, text, tuple(parsed)))
    return tuple(found)


class NotifySettings(DependencyProvider):
    """The settings as a nameko dependency, loaded (and checked) once per container."""

    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings
