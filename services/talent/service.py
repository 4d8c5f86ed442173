"""The talent service (三支队伍): cadre profiles and posts, first secretaries, the reserve cadre
pool and its shortlists, township secretaries' lists and projects, training, the annual
report-and-review assessment, and rural wealth-creation leaders.

Thin on purpose: rules live in the pure modules (``profiles``, ``terms``, ``coverage``,
``shortlist``, ``duty_rules``, ``training_rules``, ``grading``), database work in ``cadres``,
``posts``, ``reserve``, ``duties``, ``training``, ``assessments``, ``wealth`` and ``directory``,
questions to other services in ``remote``."""
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.talent import api as http_api
from services.talent import (assessments, cadres, demo_loader, directory, duties, examples,
                             owners, posts, remote, reserve, schemas, shortlist, training, wealth)
from services.talent import settings as settings_module
from services.talent.clock import Clock
from services.talent.models import Base, Unit
from services.talent.plain import plain
from shared import inputs
from shared.bus import Store, rpc_write, subscribe, subscribe_batch
from shared.bus.refusals import rpc
from shared.service import ServiceBase


class Settings(DependencyProvider):
    """``config/talent.yaml`` merged with the running config's ``talent:`` section."""

    def setup(self):
        self.settings = settings_module.load(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class OverdueTimer(Timer):
    """``@timer`` whose interval is the setting ``duties.overdue_check_seconds``."""

    def setup(self):
        self.interval = settings_module.load(self.container.config).overdue_check_seconds
        super().setup()


overdue_timer = OverdueTimer.decorator


class TalentService(ServiceBase):
    api = http_api.ROUTES
    name = "talent"
    publishes = ("cadre_appointed", "cadre_removed", "training_attended", "assessment_completed",
                 "rectification_overdue")
    store = Store(Base.metadata)
    scope_units = Unit
    settings = Settings()
    clock = Clock()
    stars = remote.TalentRpc("stars")
    members = remote.TalentRpc("members")

    @classmethod
    def rpc_examples(cls, cluster):
        """Valid calls for the shared input fuzz suite (``ServiceBase.rpc_examples``)."""
        return examples.rpc_examples(cluster)

    # -- what it hears ---------------------------------------------------------------------------
    @subscribe_batch(bindings_from=directory.bindings)
    def on_directory(self, events):
        """Organisation units and members, from the members service's events."""
        with self.store.handling_batch(events) as (session, fresh):
            directory.learn(session, fresh)

    @subscribe("stars", "quarter_closed")
    def on_quarter_closed(self, event):
        with self.store.handling(event) as session:
            assessments.learn_closing(session, event)

    @subscribe("stars", "year_closed")
    def on_year_closed(self, event):
        with self.store.handling(event) as session:
            assessments.learn_closing(session, event)

    @overdue_timer(interval=3600)
    def publish_overdue_rectifications(self):
        """Publish ``rectification_overdue`` for every rectification item that passed its
        deadline undone (once per item)."""
        with self.store.transaction() as session:
            return duties.publish_overdue(session, self.clock.today())

    # -- profiles and posts ----------------------------------------------------------------------
    @rpc_write
    def register_cadre(self, payload):
        data = schemas.load(schemas.CadreInput, payload)
        with self.store.transaction() as session:
            return cadres.register(session, data, self.clock.today())

    @rpc_write
    def update_cadre(self, cadre_id, payload):
        cadre_id = inputs.positive_id(cadre_id, "cadre_id")
        data = schemas.load(schemas.CadreUpdate, payload)
        with self.store.transaction() as session:
            return cadres.update(session, cadre_id, data, self.clock.today())

    @rpc
    def get_cadre(self, cadre_id):
        """A profile with its posts and entries; for a member, the members service's record
        beside it (``member_record``; null with the reason when members does not answer)."""
        cadre_id = inputs.positive_id(cadre_id, "cadre_id")
        with self.store.reading() as session:
            found = cadres.profile(session, cadres.get(session, cadre_id), self.clock.today())
        if found["member_id"] is not None:
            found["member_record"] = remote.member_record(self.members, found["member_id"])
        return found

    @rpc
    def list_cadres(self, team, township_id=None, offset=0, limit=100, unit_id=None):
        """``unit_id``: the cadres of that unit or a unit under it (``cadres.listing``)."""
        team = inputs.choice(team, "team", cadres.TEAMS)
        township_id = schemas.optional_id(township_id, "township_id")
        unit_id = schemas.optional_id(unit_id, "unit_id")
        offset, limit = schemas.page(offset, limit)
        with self.store.reading() as session:
            return cadres.listing(session, team, township_id, offset, limit, self.clock.today(),
                                  unit_id)

    @rpc_write
    def appoint(self, payload):
        data = schemas.load(schemas.AppointInput, payload)
        with self.store.transaction() as session:
            return posts.appoint(session, data, self.settings)

    @rpc_write
    def remove_from_post(self, post_id, ended_on, reason):
        post_id = inputs.positive_id(post_id, "post_id")
        ended_on, reason = schemas.day(ended_on, "ended_on"), schemas.reason(reason)
        with self.store.transaction() as session:
            return posts.remove(session, post_id, ended_on, reason)

    @rpc_write
    def set_village_status(self, payload):
        data = schemas.load(schemas.VillageStatusInput, payload)
        with self.store.transaction() as session:
            return posts.set_village_status(session, data)

    @rpc
    def first_secretary_coverage(self, on=None):
        day = schemas.optional_day(on, "on") or self.clock.today()
        with self.store.reading() as session:
            return posts.first_secretary_coverage(session, day, self.settings)

    # -- reserve pool ----------------------------------------------------------------------------
    @rpc_write
    def add_reserve_candidate(self, payload):
        data = schemas.load(schemas.ReserveInput, payload)
        with self.store.transaction() as session:
            return reserve.add(session, data)

    @rpc_write
    def withdraw_reserve_candidate(self, cadre_id, on, reason):
        cadre_id = inputs.positive_id(cadre_id, "cadre_id")
        on, reason = schemas.day(on, "on"), schemas.reason(reason)
        with self.store.transaction() as session:
            return reserve.withdraw(session, cadre_id, on, reason)

    @rpc
    def list_reserve(self, township_id=None, offset=0, limit=100, unit_id=None):
        """``unit_id``: the candidates of that unit or a unit under it (``cadres.listing``)."""
        township_id = schemas.optional_id(township_id, "township_id")
        unit_id = schemas.optional_id(unit_id, "unit_id")
        offset, limit = schemas.page(offset, limit)
        with self.store.reading() as session:
            return reserve.listing(session, township_id, offset, limit, self.clock.today(),
                                   unit_id)

    @rpc
    def shortlist(self, village_id, on=None):
        """The ranked shortlist for a village secretary vacancy, with every reason; star levels
        are asked of the stars service (``complete`` false, and why, when it does not answer)."""
        village_id = inputs.positive_id(village_id, "village_id")
        day = schemas.optional_day(on, "on") or self.clock.today()
        rules = self.settings.shortlist
        with self.store.reading() as session:
            vacancy = reserve.vacancy(session, village_id, day)
            found = reserve.candidates(session, vacancy["township_id"], rules.scope, day)
        stars = remote.star_levels(self.stars, [c["member_id"] for c in found if c["member_id"]],
                                   remote.period_of(day, rules.star_period))
        return shortlist.shortlist(found, vacancy, rules, day, stars)

    # -- township secretaries' lists and projects ------------------------------------------------
    @rpc_write
    def add_duty_item(self, payload):
        data = schemas.load(schemas.DutyItemInput, payload)
        with self.store.transaction() as session:
            return duties.add_item(session, data, self.clock.today())

    @rpc_write
    def set_duty_status(self, payload):
        data = schemas.load(schemas.DutyStatusInput, payload)
        with self.store.transaction() as session:
            return duties.set_status(session, data, self.clock.today())

    @rpc
    def duty_lists(self, cadre_id, year=None):
        cadre_id = inputs.positive_id(cadre_id, "cadre_id")
        year = None if year is None else schemas.year(year)
        with self.store.reading() as session:
            return duties.lists_of(session, cadre_id, year, self.clock.today())

    @rpc
    def overdue_items(self, township_id=None, on=None):
        township_id = schemas.optional_id(township_id, "township_id")
        day = schemas.optional_day(on, "on") or self.clock.today()
        with self.store.reading() as session:
            return duties.overdue(session, day, township_id)

    @rpc_write
    def add_party_project(self, payload):
        data = schemas.load(schemas.ProjectInput, payload)
        with self.store.transaction() as session:
            return duties.add_project(session, data)

    @rpc_write
    def set_project_status(self, payload):
        data = schemas.load(schemas.ProjectStatusInput, payload)
        with self.store.transaction() as session:
            return duties.set_project_status(session, data)

    # -- training --------------------------------------------------------------------------------
    @rpc_write
    def add_training_base(self, payload):
        data = schemas.load(schemas.TrainingBaseInput, payload)
        with self.store.transaction() as session:
            return training.add_base(session, data)

    @rpc
    def list_training_bases(self):
        with self.store.reading() as session:
            return training.bases(session)

    @rpc_write
    def add_course(self, payload):
        data = schemas.load(schemas.CourseInput, payload)
        with self.store.transaction() as session:
            return training.add_course(session, data)

    @rpc_write
    def schedule_session(self, payload):
        data = schemas.load(schemas.SessionInput, payload)
        with self.store.transaction() as session:
            return training.add_session(session, data)

    @rpc_write
    def record_attendance(self, payload):
        data = schemas.load(schemas.AttendanceInput, payload)
        with self.store.transaction() as session:
            return training.record_attendance(session, data, self.clock.today())

    @rpc
    def training_hours(self, year, township_id=None, unit_id=None):
        """``unit_id``: the cadres of that unit or a unit under it (``training.hours_report``)."""
        year = schemas.year(year)
        township_id = schemas.optional_id(township_id, "township_id")
        unit_id = schemas.optional_id(unit_id, "unit_id")
        with self.store.reading() as session:
            return training.hours_report(session, year, township_id,
                                         self.settings.required_hours_per_year, unit_id)

    # -- assessment ------------------------------------------------------------------------------
    @rpc
    def service_stars(self, township_id, year=None):
        township_id = inputs.positive_id(township_id, "township_id")
        year = None if year is None else schemas.year(year)
        with self.store.reading() as session:
            return plain(assessments.service_stars(session, township_id, year))

    @rpc_write
    def record_review_votes(self, payload, entered_by=None):
        """``entered_by``, when given (the caller's login, from the gateway), is who entered
        the votes, whatever the payload says."""
        data = schemas.load(schemas.VotesInput, _with(payload, entered_by=entered_by))
        with self.store.transaction() as session:
            return assessments.record_votes(session, data, self.clock.today())

    @rpc
    def preview_assessment(self, cadre_id, year):
        cadre_id, year = inputs.positive_id(cadre_id, "cadre_id"), schemas.year(year)
        with self.store.reading() as session:
            return assessments.preview(session, cadre_id, year, self.clock.today(),
                                       self.settings.assessment)

    @rpc_write
    def complete_assessment(self, payload, assessed_by=None):
        """``assessed_by``, when given (the caller's login, from the gateway), is who
        assessed, whatever the payload says."""
        data = schemas.load(schemas.AssessInput, _with(payload, assessed_by=assessed_by))
        with self.store.transaction() as session:
            return assessments.complete(session, data["cadre_id"], data["year"],
                                        data["assessed_by"], self.clock.today(),
                                        self.settings.assessment)

    @rpc
    def get_assessment(self, cadre_id, year):
        cadre_id, year = inputs.positive_id(cadre_id, "cadre_id"), schemas.year(year)
        with self.store.reading() as session:
            return assessments.get(session, cadre_id, year)

    # -- wealth-creation leaders -----------------------------------------------------------------
    @rpc_write
    def register_wealth_leader(self, payload):
        data = schemas.load(schemas.WealthLeaderInput, payload)
        with self.store.transaction() as session:
            return wealth.register_leader(session, data)

    @rpc_write
    def set_households_helped(self, payload):
        data = schemas.load(schemas.HouseholdsInput, payload)
        with self.store.transaction() as session:
            return wealth.set_households(session, data)

    @rpc_write
    def add_cooperative(self, payload):
        data = schemas.load(schemas.CooperativeInput, payload)
        with self.store.transaction() as session:
            return wealth.add_cooperative(session, data)

    @rpc_write
    def add_demonstration_zone(self, payload):
        data = schemas.load(schemas.ZoneInput, payload)
        with self.store.transaction() as session:
            return wealth.add_zone(session, data)

    @rpc_write
    def add_online_shop(self, payload):
        data = schemas.load(schemas.ShopInput, payload)
        with self.store.transaction() as session:
            return wealth.add_shop(session, data)

    @rpc_write
    def record_shop_sales(self, payload):
        data = schemas.load(schemas.SalesInput, payload)
        with self.store.transaction() as session:
            return wealth.record_sales(session, data)

    @rpc
    def wealth_summary(self, year, township_id=None, unit_id=None):
        """``unit_id``: the figures of that unit and the units under it (``wealth.summary``)."""
        year = schemas.year(year)
        township_id = schemas.optional_id(township_id, "township_id")
        unit_id = schemas.optional_id(unit_id, "unit_id")
        with self.store.reading() as session:
            return wealth.summary(session, year, township_id, unit_id)

    # -- whose it is: routes' owners (``shared.scope`` calls them with the RPC's arguments, for
    # callers bound to one unit only); each refuses bad input as its RPC does -----------------
    def unit_of_cadre(self, cadre_id, *_args, **_kwargs):
        return self._owner(owners.cadre_unit, inputs.positive_id(cadre_id, "cadre_id"),
                           self.clock.today())

    def unit_of_post(self, post_id, *_args, **_kwargs):
        return self._owner(owners.post_unit, inputs.positive_id(post_id, "post_id"))

    def unit_of_reserve_entry(self, cadre_id, *_args, **_kwargs):
        return self._owner(owners.reserve_unit, inputs.positive_id(cadre_id, "cadre_id"))

    def unit_of_duty_item(self, payload):
        return self._owner(owners.duty_item_unit,
                           schemas.load(schemas.DutyStatusInput, payload)["item_id"])

    def unit_of_project(self, payload):
        return self._owner(owners.project_unit,
                           schemas.load(schemas.ProjectStatusInput, payload)["project_id"])

    def unit_of_session_base(self, payload):
        return self._owner(owners.base_unit, schemas.load(schemas.SessionInput, payload)["base_id"])

    def unit_of_training_session(self, payload):
        return self._owner(owners.training_session_unit,
                           schemas.load(schemas.AttendanceInput, payload)["session_id"])

    def unit_of_wealth_leader(self, payload):
        return self._owner(owners.leader_village,
                           schemas.load(schemas.HouseholdsInput, payload)["cadre_id"])

    def unit_of_zone_leader(self, payload):
        return self._owner(owners.leader_township,
                           schemas.load(schemas.ZoneInput, payload)["leader_id"])

    def unit_of_shop_leader(self, payload):
        return self._owner(owners.leader_township,
                           schemas.load(schemas.ShopInput, payload)["leader_id"])

    def unit_of_shop(self, payload):
        return self._owner(owners.shop_unit, schemas.load(schemas.SalesInput, payload)["shop_id"])

    def _owner(self, find, *arguments):
        with self.store.reading() as session:
            return find(session, *arguments)

    # -- demo ------------------------------------------------------------------------------------
    @classmethod
    def load_demo_live(cls, config, cluster, scale=1.0):
        """The demo county's cadres, reserve pool, wealth leaders, cooperatives and a year of
        training, built on the members service's demo county (asked through ``cluster``);
        None when talent already has cadres."""
        return demo_loader.load_live(cls, config, cluster, scale)


def _with(payload, **given):
    """``payload`` with the arguments ``given`` (those not None) in it."""
    given = {name: value for name, value in given.items() if value is not None}
    return {**payload, **given} if given and isinstance(payload, dict) else payload
