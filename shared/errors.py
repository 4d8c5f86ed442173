"""Errors that cross service boundaries.

Every RPC that refuses an input raises one of these. They are registered with nameko's
``deserialize_to_instance`` so a caller (another service, the gateway, a test) receives the same
exception class with the same arguments, not a bare ``RemoteError``.

Contract: ``InvalidInput.errors`` maps a field name (dotted for nested fields, ``row 7.phone``
for sheet rows, ``_schema`` for the whole input) to a list of human-readable reasons.
"""
from nameko.exceptions import deserialize_to_instance


@deserialize_to_instance
class JicengError(Exception):
    """Base class; ``code`` is a stable machine-readable name for the gateway's error mapping."""

    code = "error"


@deserialize_to_instance
class InvalidInput(JicengError):
    code = "invalid_input"

    def __init__(self, errors):
        if isinstance(errors, str):
            errors = {"_schema": [errors]}
        self.errors = {field: list(reasons) if isinstance(reasons, (list, tuple)) else [reasons]
                       for field, reasons in errors.items()}
        super().__init__(self.errors)

    def __str__(self):
        return "; ".join(f"{field}: {', '.join(map(str, reasons))}"
                         for field, reasons in self.errors.items())


@deserialize_to_instance
class NotFound(JicengError):
    code = "not_found"


@deserialize_to_instance
class Conflict(JicengError):
    """The input is well-formed but the current state forbids it (e.g. a step out of order)."""

    code = "conflict"


@deserialize_to_instance
class Forbidden(JicengError):
    code = "forbidden"


def flatten_messages(messages, prefix="") -> dict[str, list[str]]:
    """marshmallow's nested error messages as ``{"dotted.field": [reasons]}``."""
    if not isinstance(messages, dict):
        items = messages if isinstance(messages, (list, tuple)) else [messages]
        return {prefix or "_schema": [str(m) for m in items]}
    flat = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        for field, reasons in flatten_messages(value, name).items():
            flat.setdefault(field, []).extend(reasons)
    return flat


def field_error(field, reason):
    return InvalidInput({field: [reason]})
