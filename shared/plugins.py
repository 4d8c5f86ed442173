"""Service discovery through the packaging entry point group ``jiceng.services``.

A service package registers its nameko class::

    [project.entry-points."jiceng.services"]
    members = "services.members.service:MembersService"

Installing the package is then enough for the runner (``jiceng run``), the topology declaration,
the contract suite and the gateway to see it. The class declares ``publishes`` (the event types
whose contracts it owns); what it consumes is read from its ``@subscribe``, ``@subscribe_dynamic``
and ``@subscribe_batch`` methods.
"""
import inspect
from importlib.metadata import entry_points

from shared.bus.batch import BatchSubscription
from shared.bus.subscribe import Subscription
from shared.bus.topology import SubscriptionSpec

GROUP = "jiceng.services"
_EXTRA: dict[str, type] = {}


class PluginError(RuntimeError):
    pass


def services() -> dict[str, type]:
    """Every installed service class by its nameko name (plus any registered in-process)."""
    found = {}
    for entry in entry_points(group=GROUP):
        cls = entry.load()
        name = getattr(cls, "name", None)
        if name != entry.name:
            raise PluginError(f"entry point {entry.name!r} loads a service named {name!r}")
        if name in found and found[name] is not cls:
            raise PluginError(f"two installed packages register a service named {name!r}")
        found[name] = cls
    for name, cls in _EXTRA.items():
        if name in found and found[name] is not cls:
            raise PluginError(f"service {name!r} is already installed")
        found[name] = cls
    return dict(sorted(found.items()))


def service(name: str) -> type | None:
    """One installed service class, loading only its own entry point (None if not installed)."""
    if name in _EXTRA:
        return _EXTRA[name]
    for entry in entry_points(group=GROUP, name=name):
        cls = entry.load()
        if getattr(cls, "name", None) != name:
            raise PluginError(f"entry point {name!r} loads a service named "
                              f"{getattr(cls, 'name', None)!r}")
        return cls
    return None


def installed_names() -> list[str]:
    """The names of the installed services, without importing them."""
    return sorted({entry.name for entry in entry_points(group=GROUP)} | set(_EXTRA))


def from_folder(name: str, root) -> type:
    """The service class defined in ``services/<name>/service.py`` under ``root``, not installed
    yet (``jiceng revision`` right after ``jiceng new-service``)."""
    import importlib
    import sys
    from pathlib import Path
    if not (Path(root) / "services" / name / "service.py").exists():
        raise PluginError(f"no service {name!r}: not installed, and no services/{name}/service.py")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(f"services.{name}.service")
    for value in vars(module).values():
        if inspect.isclass(value) and getattr(value, "name", None) == name \
                and value.__module__ == module.__name__:
            return value
    raise PluginError(f"services/{name}/service.py defines no class with name = {name!r}")


def register(cls):
    """Register a service class in this process only (tests, scripts)."""
    _EXTRA[cls.name] = cls
    return cls


def unregister(name):
    _EXTRA.pop(name, None)


def subscriptions_of(cls, config=None) -> list[SubscriptionSpec]:
    """The subscriptions of ``cls``; dynamic and batch ones read their bindings (and number of
    partitions) from ``config``."""
    specs = []
    for method_name, method in inspect.getmembers(cls, inspect.isfunction):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, (Subscription, BatchSubscription)):
                specs.append(entrypoint.spec(cls.name, method_name, config or {}))
    return sorted(specs, key=lambda s: s.queue_name)


def publishes_of(cls) -> tuple[str, ...]:
    return tuple(getattr(cls, "publishes", ()))


def bus_participants(config=None, classes=None):
    """(names of services that publish events, every subscription of every service)."""
    classes = services() if classes is None else classes
    publishers = {name for name, cls in classes.items() if publishes_of(cls)}
    subscriptions = [spec for cls in classes.values() for spec in subscriptions_of(cls, config)]
    return publishers, subscriptions
