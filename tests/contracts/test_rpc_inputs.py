"""Every RPC of every registered service refuses bad input with a clear error, the same on
PostgreSQL and SQLite (property-based, hypothesis).

Nothing to write for a new service: its RPCs are found by their nameko entrypoints and fuzzed with
hostile values (wrong types, missing and unknown arguments, None, huge and negative numbers,
numbers past any column's precision, integers past 64 bits, 100,000-character strings, NUL and
other control characters, full-width and other non-ASCII digits, emoji, empty and broken files).
A service that declares ``rpc_examples`` (see ``shared.service.ServiceBase``) is also fuzzed one
field at a time from valid calls, which reaches much deeper.

Every call must end in its return value or in ``InvalidInput`` (naming the field at fault, not
only ``_schema``), ``NotFound``, ``Conflict`` or ``Forbidden``; never in another exception or a
timeout. Arguments that do not fit the method's signature (a missing or unknown argument) end in
``InvalidInput`` naming each argument, raised by the RPC entrypoint before the method. A call
carrying a value no field may accept (``fuzz.bad``) must be refused with ``InvalidInput`` naming
the field. A refused call stores nothing (every table of the service's store counted before and
after), both databases give the same outcome and the same error fields, and the service answers
``health`` with "ok" afterwards.

``JICENG_FUZZ_EXAMPLES`` (default 12) sets the examples per RPC; runs are derandomized, so CI is
reproducible: ``JICENG_FUZZ_EXAMPLES=500 pytest --timeout=0 tests/contracts/test_rpc_inputs.py``
goes deeper.
``JICENG_FUZZ_SERVICES=members,stars`` starts and fuzzes only those services (while writing one).
"""
import os

import eventlet
import pytest
from hypothesis import HealthCheck, given, settings

from shared import plugins
from tests.support import fuzz

pytestmark = pytest.mark.integration

SERVICES = {name: cls for name, cls in plugins.services().items()
            if name in os.environ.get("JICENG_FUZZ_SERVICES", name).split(",")}
RPCS = [(service, method) for service in sorted(SERVICES)
        for method in sorted(fuzz.rpc_methods(SERVICES[service]))]
EXAMPLES_PER_RPC = int(os.environ.get("JICENG_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES_PER_RPC, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck), print_blob=False)


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    """Every installed service, twice: on fresh PostgreSQL databases and on SQLite files, each
    system on its own vhost, with each service's ``rpc_examples`` taken on both."""
    pg = fuzz.System("postgresql", tmp_path_factory.mktemp("pg"), SERVICES)
    lite = fuzz.System("sqlite", tmp_path_factory.mktemp("sqlite"), SERVICES)
    with pg.running(), lite.running():
        for name in fuzz.in_dependency_order(SERVICES, pg.config):
            def take(system):
                system.examples[name] = SERVICES[name].rpc_examples(system.cluster) or {}
                system.settle()
            both((pg, lite), take)
        yield pg, lite


def test_every_registered_service_has_its_rpcs_fuzzed():
    assert {service for service, _ in RPCS} == set(SERVICES)
    if "JICENG_FUZZ_SERVICES" not in os.environ:
        assert ("members", "register_member") in RPCS and ("stars", "record_sanction") in RPCS


def test_examples_name_real_rpcs_and_fit_their_signatures(systems):
    pg, lite = systems
    for service, cls in SERVICES.items():
        methods = fuzz.rpc_methods(cls)
        for method, examples in pg.examples[service].items():
            assert method in methods, f"{service}.rpc_examples names no RPC {method!r}"
            assert [fuzz.paths(e) for e in examples] == \
                [fuzz.paths(e) for e in lite.examples[service][method]], \
                f"{service}.{method}: the examples differ in shape between the two databases"
            for example in examples:
                assert fuzz.binds(methods[method], example) is None, (service, method, example)
    assert all(pg.examples[name] for name in {"members", "stars"} & set(SERVICES))


@pytest.mark.parametrize("service,method", RPCS, ids=[f"{s}.{m}" for s, m in RPCS])
def test_rpc_refuses_bad_input_clearly_and_alike_on_both_databases(systems, service, method):
    pg, lite = systems
    signature = fuzz.rpc_methods(SERVICES[service])[method]
    examples = {system: system.examples[service].get(method, []) for system in systems}

    for index in range(len(examples[pg])):        # the examples themselves are accepted
        for system in systems:
            outcome = system.call(service, method, examples[system][index])
            assert outcome.kind == "ok", f"{service}.{method} example {index} on " \
                                         f"{system.backend}: {outcome}"
        settle(systems)

    def attempt(system, case):
        kwargs = case.kwargs(examples[system])
        before = system.counts(service)
        outcome = system.call(service, method, kwargs)
        return kwargs, before, outcome, system.counts(service)

    @FUZZ
    @given(case=fuzz.cases(signature, examples[pg]))
    def check(case):
        outcomes, wrote = {}, False
        for system, (kwargs, before, outcome, after) in zip(systems, both(systems, attempt, case)):
            where = f"{service}.{method} on {system.backend}, {case.describe(examples[system])}"
            judge(outcome, signature, kwargs, case, where)
            if outcome.refused:
                assert after == before, f"{where}: refused ({outcome}) but rows were stored"
            wrote = wrote or after != before
            outcomes[system.backend] = outcome
        assert outcomes["postgresql"] == outcomes["sqlite"], \
            f"{service}.{method}, {case.describe(examples[pg])}: PostgreSQL gave " \
            f"{outcomes['postgresql']}, SQLite {outcomes['sqlite']}"
        if wrote:           # let the events of an accepted write land before the next count
            settle(systems)

    check()
    for system in systems:
        assert system.healthy(service)["status"] == "ok", f"{service} on {system.backend}"


def judge(outcome, signature, kwargs, case, where):
    """The rules every call's outcome must follow (see the module docstring)."""
    assert outcome.kind in ("ok",) + fuzz.REFUSALS, f"{where}: {outcome}"
    misfit = fuzz.binds(signature, kwargs)
    if misfit:
        assert outcome.kind == "InvalidInput", \
            f"{where}: arguments that do not fit ({misfit}) gave {outcome}"
        return
    if outcome.kind == "InvalidInput":
        assert set(outcome.fields) != {"_schema"}, f"{where}: refused without naming a field: {outcome}"
    if any(fuzz.bad(value) for value in kwargs.values()):
        assert outcome.kind == "InvalidInput", f"{where}: a value no field may take gave {outcome}"
    if case.named is not None:
        assert any(case.named in fuzz.names(key) for key in outcome.fields), \
            f"{where}: the refusal does not name {case.named!r}: {outcome}"


def settle(systems):
    both(systems, lambda system: system.settle())


def both(systems, work, *args):
    """``work(system, *args)`` for each system at the same time; the results in order."""
    threads = [eventlet.spawn(work, system, *args) for system in systems]
    return [thread.wait() for thread in threads]
