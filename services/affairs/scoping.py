"""Which units an affairs call covers for a gateway caller, and who may record the acceptance
(pure; ``shared.scope`` does the checking itself).

Lists and reports name their units with the filters ``branch_id`` and ``township_id``, given as
one ``filters`` dict (calls from inside) or as keyword arguments (the gateway's query string).
``shared.scope`` refuses a caller bound to one unit a named unit outside its scope; a scoped
caller that names none is confined to its own unit: the loaded filters gain ``within``, and a
matter (or violation) is within a unit when that unit is its branch or its township."""
from sqlalchemy import or_

from shared.api import granted
from shared.scope import scoped_caller

UNIT_FILTERS = ("branch_id", "township_id")
SUPERVISE = "affairs.supervise"


def merged(filters, **named):
    """The filters of a call: ``filters`` (a dict, or None) with the keyword arguments given
    (not None) over it. Anything but a dict or None is returned as it is, for the schema to
    refuse naming ``filters``."""
    given = {name: value for name, value in named.items() if value is not None}
    if filters is None:
        return given
    if not isinstance(filters, dict):
        return filters
    return {**filters, **given}


def units_named(filters) -> list:
    """The ``branch_id`` and ``township_id`` the filters give (as given, not yet checked)."""
    if not isinstance(filters, dict):
        return []
    return [filters[name] for name in UNIT_FILTERS if filters.get(name) is not None]


def units_covered(filters, context) -> list:
    """The units a list with ``filters`` acts on for the caller in ``context``: those it
    names, else a scoped caller's own unit (where ``confined`` keeps it)."""
    named = units_named(filters)
    if named or not scoped_caller(context):
        return named
    return [context["scope_unit_id"]]


def confined(filters: dict, context) -> dict:
    """Loaded ``filters`` with ``within`` the caller's unit when a scoped caller names none."""
    if units_named(filters) or not scoped_caller(context):
        return filters
    return {**filters, "within": context["scope_unit_id"]}


def unit_conditions(model, filters: dict) -> list:
    """SQL conditions on ``model``'s ``branch_id`` / ``township_id`` for the loaded filters."""
    conditions = [getattr(model, name) == filters[name] for name in UNIT_FILTERS
                  if filters.get(name) is not None]
    if filters.get("within") is not None:
        conditions.append(or_(model.branch_id == filters["within"],
                              model.township_id == filters["within"]))
    return conditions


def acceptance_refusal(context, step_kind) -> str | None:
    """Why the caller in ``context`` may not record a step of ``step_kind``, or None: the final
    acceptance is the village affairs supervision committee's (``affairs.supervise``); calls
    from inside (no ``role``) are not checked."""
    if step_kind != "acceptance" or "role" not in context:
        return None
    if granted(context.get("permissions"), SUPERVISE):
        return None
    return (f"step: the acceptance is the village affairs supervision committee's; role "
            f"{context.get('role')} does not grant {SUPERVISE}")


def signed(payload, field: str, name):
    """``payload`` with ``field`` set to ``name`` (who acted, from the gateway's login) when
    ``name`` is given; unchanged otherwise (anything but a dict is left for the schema)."""
    if name is None or not isinstance(payload, dict):
        return payload
    return {**payload, field: name}
