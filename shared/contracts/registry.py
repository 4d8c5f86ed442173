"""The registry of event contracts: the public language between services.

A contract is a marshmallow schema registered under ``(source, type)`` with a ``version``.
Rules (checked by the contract suite in ``tests/contracts``):

* ``type`` is ``noun_pasttense`` (``activity_recorded``); ``source`` is the publishing service.
* Additive change (a new optional field) keeps the version. A breaking change (removing or
  renaming a field, changing its meaning or type) is a new type published beside the old one
  until every consumer has moved.
* Every schema carries an ``example`` payload (a class attribute) that the contract suite
  validates, so the documentation cannot drift from the schema.
* Payloads are validated with ``load`` and written with ``dump`` on publish, so what travels is
  plain JSON (strings for dates and decimals). Consumers ``load`` with unknown fields excluded,
  so a publisher may add fields without breaking anyone.
"""
import re
from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, ValidationError

from shared.errors import InvalidInput, flatten_messages

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


@dataclass(frozen=True)
class Contract:
    source: str
    type: str
    version: int
    schema: type
    description: str

    @property
    def instance(self):
        """One reusable schema instance (marshmallow schemas hold no per-call state)."""
        cached = _INSTANCES.get(self.schema)
        if cached is None:
            cached = _INSTANCES[self.schema] = self.schema(unknown=EXCLUDE)
        return cached

    def load(self, data, *, partial=False):
        """Validate an incoming or outgoing payload; unknown fields are dropped."""
        try:
            return self.instance.load(data or {}, partial=partial)
        except ValidationError as exc:
            raise InvalidInput(flatten_messages(exc.messages)) from None

    def to_wire(self, data):
        """Validate and dump to plain JSON types, as published."""
        return self.instance.dump(self.load(data))


_CONTRACTS: dict[tuple[str, str], Contract] = {}
_INSTANCES: dict[type, Schema] = {}
_LOADED = {"done": False}


def contract(source: str, type_: str, version: int = 1):
    """Class decorator registering a marshmallow schema as the contract of ``source``/``type_``."""

    def register(schema_cls):
        key = (source, type_)
        existing = _CONTRACTS.get(key)
        if existing and existing.schema is not schema_cls:
            raise ValueError(f"contract {source}.{type_} registered twice")
        _CONTRACTS[key] = Contract(source, type_, version, schema_cls,
                                   (schema_cls.__doc__ or "").strip())
        return schema_cls

    return register


def get(source: str, type_: str) -> Contract:
    found = _CONTRACTS.get((source, type_))
    if found is None:
        load_all()
        found = _CONTRACTS.get((source, type_))
    if found is None:
        raise LookupError(f"no contract registered for {source}.{type_}")
    return found


def all_contracts() -> list[Contract]:
    load_all()
    return sorted(_CONTRACTS.values(), key=lambda c: (c.source, c.type))


def load_all(force=False):
    """Import every contract module shipped in ``shared.contracts`` and by installed plugins
    (entry point group ``jiceng.contracts``); done once per process unless ``force``."""
    if _LOADED["done"] and not force:
        return
    _LOADED["done"] = True
    import importlib
    import pkgutil

    import shared.contracts as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in ("registry", "envelope"):
            importlib.import_module(f"shared.contracts.{module.name}")
    from importlib.metadata import entry_points
    for entry in entry_points(group="jiceng.contracts"):
        entry.load()
