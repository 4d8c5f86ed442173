"""Machinery of the shared input fuzz suite (``tests/contracts/test_rpc_inputs.py``).

* ``System``: every installed service running on one vhost with a fresh database each, on
  PostgreSQL or SQLite, with an RPC client, row counts and a health check.
* hostile values (``VALUES``) and ``bad``: which of them no input may ever be stored as (control
  characters, lone surrogates, 100,000-character strings, integers past 64 bits, NaN, Infinity,
  numbers past any column's precision).
* ``Case``: one call to make, either a mutation of a service's example (``rpc_examples``: one
  field dropped, added or replaced) or generic values for every parameter; ``cases`` draws them.
* ``Outcome``: how a call ended (returned, a ``shared.errors`` refusal, or something unexpected).
"""
from __future__ import annotations

import base64
import copy
import inspect
import io
import math
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st
from nameko.rpc import Rpc
from sqlalchemy import func, select

from shared import db, migrate, plugins
from shared.bus import outbox
from shared.bus.rpc import rpc_client
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support import broker
from tests.support.fixtures import make_config
from tests.support.running import services_running

REFUSALS = ("InvalidInput", "NotFound", "Conflict", "Forbidden")
MISSING = object()


# -- services and their RPCs ----------------------------------------------------------------------

def rpc_methods(cls) -> dict[str, inspect.Signature]:
    """Every RPC of a service class (methods with a nameko ``Rpc`` entrypoint) and its signature
    as written (without ``self``)."""
    found = {}
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if any(isinstance(e, Rpc) for e in getattr(method, "nameko_entrypoints", ())):
            signature = inspect.signature(inspect.unwrap(method))
            found[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return found


def in_dependency_order(classes: dict[str, type], config) -> list[str]:
    """Service names, publishers before the services that subscribe to them."""
    needs = {name: {source for spec in plugins.subscriptions_of(cls, config)
                    for source, _ in spec.bindings if source != name and source in classes}
             for name, cls in classes.items()}
    ordered = []
    while len(ordered) < len(needs):
        ready = sorted(n for n in needs if n not in ordered and needs[n] <= set(ordered))
        ordered.extend(ready or sorted(n for n in needs if n not in ordered)[:1])
    return ordered


def _count_statement(metadata):
    tables = sorted(metadata.tables.values(), key=lambda t: t.name)
    return select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name)
                    for t in tables])


class System:
    """Every installed service on its own vhost, each with a fresh database of one kind."""

    def __init__(self, backend: str, folder: Path, classes: dict[str, type], timeout=30):
        self.backend, self.folder, self.classes, self.timeout = backend, folder, classes, timeout
        self.urls: dict[str, str] = {}
        self.examples: dict[str, dict[str, list[dict]]] = {}
        self.cluster = None
        self._counts = {name: _count_statement(cls.store.metadata)
                        for name, cls in classes.items() if getattr(cls, "store", None)}

    @contextmanager
    def running(self):
        with ExitStack() as stack:
            vhost = broker.create_vhost("jiceng-fuzz")
            stack.callback(broker.delete_vhost, vhost)
            for name, cls in self.classes.items():
                if self.backend == "postgresql":
                    url = broker.create_pg_database("jiceng_fuzz")
                    stack.callback(broker.drop_pg_database, url)
                else:
                    url = f"sqlite:///{self.folder}/{name}.sqlite"
                    stack.callback(db.forget, url)
                self.urls[name] = url
                if getattr(cls, "store", None) is not None:
                    if (Path(inspect.getfile(cls)).parent / "migrations").is_dir():
                        migrate.upgrade(cls, url)
                    else:
                        cls.store.metadata.create_all(db.database(url).engine)
            self.config = make_config(broker.amqp_uri(vhost), self.urls)
            stack.enter_context(services_running(self.config, *self.classes.values()))
            self.cluster = stack.enter_context(rpc_client(self.config, timeout=self.timeout))
            yield self

    def call(self, service, method, kwargs) -> "Outcome":
        try:
            result = getattr(getattr(self.cluster, service), method)(**kwargs)
        except InvalidInput as refused:
            return Outcome("InvalidInput", tuple(sorted(refused.errors)), str(refused))
        except (NotFound, Conflict, Forbidden) as refused:
            return Outcome(type(refused).__name__, (), str(refused))
        except Exception as error:  # what the suite is here to find
            return Outcome("unexpected", (), f"{type(error).__name__}: {short(str(error), 400)}")
        return Outcome("ok", (), short(repr(result), 200))

    def counts(self, service) -> tuple:
        statement = self._counts.get(service)
        if statement is None:
            return ()
        with db.database(self.urls[service]).reading() as session:
            return tuple(session.execute(statement).one())

    def all_counts(self) -> dict:
        return {name: self.counts(name) for name in self._counts}

    def pending(self) -> int:
        total = 0
        for name in self._counts:
            with db.database(self.urls[name]).reading() as session:
                total += outbox.pending_count(session, self.classes[name].store.outbox_table)
        return total

    def settle(self, timeout=15.0):
        """Wait until nothing moves: every outbox published and every store's row counts
        unchanged for a moment (events being handled by subscribers have landed)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            now = (self.pending(), self.all_counts())
            if now == last and now[0] == 0:
                return
            last = now
            time.sleep(0.15)
        raise AssertionError(f"{self.backend}: the system did not settle within {timeout} s")

    def healthy(self, service) -> dict:
        return getattr(self.cluster, service).health()


# -- hostile values ---------------------------------------------------------------------------------

def _xlsx(rows) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def _zip_of_garbage() -> bytes:
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not really/>")
    return buffer.getvalue()


XLSX = _xlsx([["resident_id", "kind", "occurred_on"], ["１３０９８３", "study", "2026-01-01"]])
FILES = {
    "b64 empty": _b64(b""),
    "b64 garbage": _b64(bytes(range(256)) * 3),
    "b64 NULs": _b64(b"\x00" * 64),
    "b64 truncated xlsx": _b64(XLSX[: len(XLSX) // 2]),
    "b64 zip, not xlsx": _b64(_zip_of_garbage()),
    "b64 CSV with a NUL": _b64(b"resident_id,kind,occurred_on\r\n\x00,study,2026-01-01\r\n"),
    "b64 CSV with control chars": _b64("member_id,kind,occurred_on,project\r\n"
                                       "1,volunteer_service,2026-11-01,\x07\x1b\r\n".encode()),
    "b64 CSV header only": _b64("\ufeffresident_id,kind,occurred_on\r\n".encode()),
    "b64 latin-1 CSV": _b64("member_id,kind,occurred_on,project\r\n1,study,2026-11-01,caf\xe9\r\n"
                            .encode("latin-1")),
    "not base64": "this is not base64!!",
}

class Long(str):
    """A long string that shows as its length in reports."""

    def __repr__(self):
        return f"<{len(self)} characters: {str.__repr__(self[:12])}...>"


FULL_WIDTH = str.maketrans("0123456789-X", "０１２３４５６７８９－Ｘ")

VALUES = {
    "None": None, "true": True, "false": False,
    "0": 0, "-1": -1, "2**31": 2 ** 31, "2**63": 2 ** 63, "2**70": 2 ** 70, "-2**70": -(2 ** 70),
    "2.5": 2.5, "1e308": 1e308, "NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf,
    "Decimal 0.001": Decimal("0.001"), "Decimal NaN": Decimal("NaN"),
    "Decimal 1E+999": Decimal("1E+999"), "Decimal 30 digits": Decimal("123456789012345678901234567890"),
    "''": "", "' '": "   ", "'x'": "x", "'0'": "0", "'-1'": "-1",
    "'1e999'": "1e999", "'NaN'": "NaN", "'Infinity'": "Infinity", "'-Infinity'": "-Infinity",
    "'30 digits'": "123456789012345678901234567890.123456789",
    "'2**70'": str(2 ** 70), "'1_000'": "1_000",
    "full-width 123": "１２３", "full-width date": "２０２６－１１－２０",
    "full-width mobile": "１３８１２３４５６７８",
    "Arabic-Indic digits": "١٢٣", "emoji": "党员😀🎉", "Chinese": "王建国", "RTL override": "\u202eabc",
    "BOM": "\ufeffx", "newline": "line\nbreak", "date text": "2026-11-20", "period": "2026-11",
    "NUL": "\x00", "NUL inside": "ab\x00cd", "BEL": "bell\x07", "ESC": "\x1b[31mred",
    "NEL": "next\x85line", "U+FFFF": "\uffff",
    "lone surrogate": "\ud800",
    "100k chars": Long("x" * 100_000), "100k full-width": Long("１" * 100_000),
    "[]": [], "[1, 2]": [1, 2], "{}": {}, "{'a': 1}": {"a": 1}, "[{}]": [{}],
    "nested NUL": {"x": ["\x00"]},
    "bytes": b"\x00\xff\xfe", "date object": date(2026, 1, 1), "year 1": date(1, 1, 1),
    **FILES,
}


def bad(value) -> bool:
    """Whether no field may accept ``value`` (anywhere inside it): control characters, lone
    surrogates, text past 10,000 characters, integers outside 64 bits, non-finite or huge
    numbers. Every call carrying one must be refused with ``InvalidInput``."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        from shared.inputs import control_characters
        return len(value) > 10_000 or bool(control_characters(value, multiline=True))
    if isinstance(value, int):
        return not -(2 ** 63) <= value < 2 ** 63
    if isinstance(value, float):
        return not math.isfinite(value) or abs(value) > 1e300
    if isinstance(value, Decimal):
        return not value.is_finite() or value.adjusted() > 20
    if isinstance(value, dict):
        return any(bad(k) or bad(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(bad(v) for v in value)
    return False


def values():
    """A hostile value: one of ``VALUES`` mostly, else generated text, integers or a dict."""
    return st.one_of(
        st.sampled_from(sorted(VALUES)).map(lambda label: VALUES[label]),
        st.sampled_from(sorted(VALUES)).map(lambda label: VALUES[label]),
        st.text(max_size=12),
        st.integers(min_value=-(2 ** 80), max_value=2 ** 80),
        st.dictionaries(st.text(max_size=6), st.sampled_from(sorted(VALUES)).map(VALUES.get),
                        max_size=2),
    )


# -- cases ----------------------------------------------------------------------------------------

EXTRA_NAMES = ("unexpected", "id", "名字", "\x00", "__proto__", "__type__")


@dataclass(frozen=True)
class Case:
    """One call. With ``example`` (an index into the RPC's examples): ``op`` at ``path`` of it
    ("replace" with ``value``, "drop", "extra": add key ``path[-1]`` = ``value``, "full-width":
    the example's own digits typed full-width). Without: ``arguments`` as given."""
    example: int | None = None
    op: str = ""
    path: tuple = ()
    value: object = None
    arguments: tuple = ()

    def kwargs(self, examples: list[dict]) -> dict:
        if self.example is None:
            return {name: copy.deepcopy(value) for name, value in self.arguments}
        kwargs = copy.deepcopy(examples[self.example])
        *parents, last = self.path
        target = kwargs
        for step in parents:
            target = target[step]
        if self.op == "drop":
            del target[last]
        elif self.op == "full-width":
            target[last] = str(target[last]).translate(FULL_WIDTH)
        else:
            target[last] = copy.deepcopy(self.value)
        return kwargs

    @property
    def named(self) -> str | None:
        """The field a refusal must name: a replaced or added field whose value is a bad scalar
        (a bad dict or list may be refused by the names inside it)."""
        if self.example is None or self.op not in ("replace", "extra") or not bad(self.value) \
                or isinstance(self.value, (dict, list)):
            return None
        names = [p for p in self.path if isinstance(p, str)]
        return names[-1] if names else None

    def __repr__(self):
        if self.example is None:
            return f"Case(arguments={short(repr(self.arguments))})"
        return f"Case({self.example}, {self.op!r}, {self.path!r}, {short(repr(self.value))})"

    def describe(self, examples) -> str:
        if self.example is None:
            return f"generic arguments {short(repr(dict(self.arguments)))}"
        what = f"{self.op} {'.'.join(map(str, self.path))}"
        if self.op in ("replace", "extra"):
            what += f" = {short(repr(self.value))}"
        return f"example {self.example} with {what}: {short(repr(self.kwargs(examples)))}"


def paths(example: dict, depth=3) -> list[tuple]:
    """Every (key, key...) path into an example's arguments, dicts and lists, up to ``depth``."""
    found = []

    def walk(value, prefix):
        if len(prefix) >= depth:
            return
        items = value.items() if isinstance(value, dict) else \
            enumerate(value) if isinstance(value, list) else ()
        for key, inner in items:
            found.append(prefix + (key,))
            walk(inner, prefix + (key,))

    walk(example, ())
    return found


def containers(example: dict, depth=3) -> list[tuple]:
    """Paths of the dicts in an example (the arguments themselves first): where to add a key."""
    return [()] + [p for p in paths(example, depth - 1)
                   if isinstance(_at(example, p), dict)]


def _at(value, path):
    for step in path:
        value = value[step]
    return value


def mutations(examples: list[dict]):
    def of(index):
        example = examples[index]
        leaves = paths(example)
        digits = [p for p in leaves if isinstance(_at(example, p), (str, int))
                  and not isinstance(_at(example, p), bool)
                  and any(c.isdigit() for c in str(_at(example, p)))]
        options = [st.builds(lambda p, k, v: Case(index, "extra", p + (k,), v),
                             st.sampled_from(containers(example)), st.sampled_from(EXTRA_NAMES),
                             values())]
        if leaves:
            options += [
                st.builds(lambda p, v: Case(index, "replace", p, v), st.sampled_from(leaves), values()),
                st.builds(lambda p, v: Case(index, "replace", p, v), st.sampled_from(leaves), values()),
                st.builds(lambda p: Case(index, "drop", p), st.sampled_from(leaves)),
            ]
        if digits:
            options.append(st.builds(lambda p: Case(index, "full-width", p), st.sampled_from(digits)))
        return st.one_of(*options)

    return st.integers(0, len(examples) - 1).flatmap(of) if examples else st.nothing()


def generic(signature: inspect.Signature):
    """Hostile values for every parameter; a required one sometimes left out, an unknown one
    sometimes added."""
    parameters = list(signature.parameters.values())

    def argument(parameter):
        required = parameter.default is inspect.Parameter.empty
        choices = values() if required else st.one_of(st.just(MISSING), values())
        return st.tuples(st.just(parameter.name), st.one_of(values(), choices))

    def build(pairs, extra):
        arguments = tuple((name, value) for name, value in pairs if value is not MISSING)
        return Case(arguments=arguments + extra)

    return st.builds(build, st.tuples(*[argument(p) for p in parameters]),
                     st.one_of(st.just(()), st.just(()), st.just(()),
                               st.tuples(st.tuples(st.sampled_from(EXTRA_NAMES[:3]), values()))))


def cases(signature: inspect.Signature, examples: list[dict]):
    if not examples:
        return generic(signature)
    return st.one_of(mutations(examples), mutations(examples), mutations(examples),
                     generic(signature))


def binds(signature: inspect.Signature, kwargs: dict) -> str | None:
    """Why ``kwargs`` do not fit the signature (None: they do)."""
    try:
        signature.bind(**kwargs)
    except TypeError as error:
        return str(error)
    return None


# -- outcomes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    kind: str                      # ok, InvalidInput, NotFound, Conflict, Forbidden, ...
    fields: tuple = ()             # InvalidInput: the error keys
    detail: str = field(default="", compare=False)

    @property
    def refused(self) -> bool:
        return self.kind in REFUSALS

    def __str__(self):
        names = f" {list(self.fields)}" if self.fields else ""
        return f"{self.kind}{names} ({short(self.detail, 300)})"


def names(key: str) -> list[str]:
    """The field names in an error key: ``"row 4.kind"`` -> ["row 4", "kind"]."""
    return [part for part in key.split(".") if part]


def short(text: str, limit=240) -> str:
    text = text if isinstance(text, str) else repr(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
