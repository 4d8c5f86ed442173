"""Service-side scope (``shared.scope``): rules as pure functions, then the wrapper that
``ServiceBase`` puts on every published RPC, on a service built without a broker."""
import pytest

from shared import scope
from shared.api import Route
from shared.errors import Forbidden
from shared.service import ServiceBase

PARENTS = {1: None, 2: 1, 3: 2, 4: 1, 5: 4}       # county 1; townships 2, 4; villages 3, 5
VILLAGE_CADRE = {"role": "village_cadre", "scope_unit_id": 3}


def test_covers_walks_up_the_tree_and_stops_on_loops_and_unknown_units():
    assert scope.covers(2, 3, PARENTS.get) and scope.covers(2, 2, PARENTS.get)
    assert not scope.covers(2, 5, PARENTS.get) and not scope.covers(3, 2, PARENTS.get)
    assert scope.covers(None, 5, PARENTS.get)
    assert not scope.covers(2, 99, PARENTS.get)
    assert not scope.covers(2, 7, {7: 8, 8: 7}.get)


def refusal(route, context, units, argument="unit_id"):
    return scope.refusal(route, context, units, argument, PARENTS.get)


def test_a_unit_outside_the_scope_is_refused_naming_it():
    route = Route("POST", "/x", "x", "x", permission="x.write", unit="body:unit_id")
    assert refusal(route, VILLAGE_CADRE, [3]) is None
    assert refusal(route, VILLAGE_CADRE, [5]) == "organisation unit 5 is outside your scope (unit 3)"
    assert "unit_id: name a unit inside your scope" in refusal(route, VILLAGE_CADRE, [])


def test_a_write_that_names_no_unit_is_closed_to_a_scoped_caller_and_a_read_is_open():
    write = Route("POST", "/x", "x", "x", permission="x.write")
    read = Route("GET", "/x", "x", "x", permission="x.read")
    assert "acts on the whole county" in refusal(write, VILLAGE_CADRE, [])
    assert refusal(read, VILLAGE_CADRE, []) is None


def test_an_owner_that_finds_no_object_leaves_the_answer_to_the_rpc():
    route = Route("GET", "/x/<int:x_id>", "x", "x", permission="x.read", owner="unit_of_x")
    assert refusal(route, VILLAGE_CADRE, []) is None
    assert refusal(route, VILLAGE_CADRE, [3, 5]) is not None


def test_a_route_cannot_name_both_a_unit_and_an_owner():
    with pytest.raises(ValueError, match="unit or owner"):
        Route("GET", "/x", "x", "x", permission="x.read", unit="query:u", owner="o")


class Context:
    def __init__(self, context):
        self.context = context


class Things(ServiceBase):
    """A service as nameko would build it, its store replaced by what carries the context."""
    name = "things"
    api = (Route("POST", "/things", "add", "Add", permission="things.write",
                 unit="body:unit_id"),
           Route("POST", "/things/<int:thing_id>/close", "close", "Close",
                 permission="things.write", owner="unit_of_thing"),
           Route("GET", "/things", "find", "Find", permission="things.read",
                 unit="query:unit_id", body_arg=None),
           Route("POST", "/things/reset", "reset", "Reset all", permission="things.write"))
    OWNERS = {10: 3, 11: 5}

    def __init__(self, context):
        self.store = Context(context)

    def scope_parent_of(self, unit_id):
        return PARENTS.get(unit_id)

    def unit_of_thing(self, thing_id):
        return self.OWNERS.get(thing_id)

    def add(self, payload):
        return payload["unit_id"]

    def close(self, thing_id):
        return thing_id

    def find(self, unit_id=None):
        return unit_id

    def reset(self):
        return "reset"


def test_the_wrapper_checks_each_published_rpc_before_it_runs():
    cadre = Things(VILLAGE_CADRE)
    assert cadre.add({"unit_id": 3}) == 3 and cadre.close(10) == 10 and cadre.find(unit_id=3) == 3
    with pytest.raises(Forbidden, match="unit 5 is outside"):
        cadre.add({"unit_id": 5})
    with pytest.raises(Forbidden, match="unit 5 is outside"):
        cadre.close(11)
    with pytest.raises(Forbidden, match="unit_id: name a unit"):
        cadre.find()
    with pytest.raises(Forbidden, match="whole county"):
        cadre.reset()
    assert cadre.close(404) == 404                 # no such thing: the RPC answers for itself


def test_callers_from_inside_and_county_wide_callers_are_not_limited():
    for context in ({}, {"role": "county_admin"}, {"role": "county_admin", "scope_unit_id": None}):
        things = Things(context)
        assert things.add({"unit_id": 5}) == 5 and things.reset() == "reset"


def service_with_units(tmp_path, with_parent_id, rows):
    """A service whose ``scope_units`` table (``township_id``, and ``parent_id`` if asked)
    holds ``rows``, on SQLite under ``tmp_path``."""
    from sqlalchemy import Integer
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from shared.bus.store import Store

    class Base(DeclarativeBase):
        pass

    columns = {"__tablename__": "units", "__annotations__": {},
               "id": mapped_column(Integer, primary_key=True),
               "township_id": mapped_column(Integer, nullable=True)}
    if with_parent_id:
        columns["parent_id"] = mapped_column(Integer, nullable=True)
    Unit = type("Unit", (Base,), columns)

    class Kept(ServiceBase):
        name = "kept"
        store = Store(Base.metadata)
        scope_units = Unit

    handle = Kept.store.handle(f"sqlite:///{tmp_path}/units.sqlite")
    Base.metadata.create_all(handle.database.engine)
    with handle.transaction() as session:
        session.add_all([Unit(**row) for row in rows])
    service = Kept.__new__(Kept)
    service.store = handle
    return service


def test_the_default_parent_lookup_reads_the_services_own_unit_table(tmp_path):
    service = service_with_units(tmp_path, False, [{"id": 2, "township_id": 2},
                                                   {"id": 3, "township_id": 2}])
    assert service.scope_parent_of(3) == 2
    assert service.scope_parent_of(2) is None           # a township is its own township
    assert service.scope_parent_of(99) is None          # not known here


def test_the_default_parent_lookup_prefers_parent_id(tmp_path):
    service = service_with_units(tmp_path, True, [
        {"id": 1, "parent_id": None}, {"id": 2, "parent_id": 1, "township_id": 2},
        {"id": 3, "parent_id": 2, "township_id": 2}])
    assert [service.scope_parent_of(unit) for unit in (3, 2, 1)] == [2, 1, None]


def test_a_route_timeout_is_bounded():
    assert Route("POST", "/s", "s", "s", permission="x", timeout_seconds=60).timeout_seconds == 60
    with pytest.raises(ValueError, match="timeout_seconds"):
        Route("POST", "/s", "s", "s", permission="x", timeout_seconds=0)
