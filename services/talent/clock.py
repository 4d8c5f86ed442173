"""What day it is for the talent service: the China-local date, or ``talent.today`` when the
config fixes one (rehearsals, tests). A nameko dependency, so a test can also hand a worker its
own clock (``worker_factory(TalentService, clock=FixedClock(date(...)))``)."""
from datetime import date, datetime, timedelta, timezone

from nameko.extensions import DependencyProvider

from services.talent import settings as settings_module

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def china_today() -> date:
    return datetime.now(CHINA_TZ).date()


class FixedClock:
    def __init__(self, day: date):
        self.day = day

    def today(self) -> date:
        return self.day


class SystemClock:
    def today(self) -> date:
        return china_today()


class Clock(DependencyProvider):
    def setup(self):
        fixed = settings_module.load(self.container.config).today
        self.clock = FixedClock(fixed) if fixed else SystemClock()

    def get_dependency(self, worker_ctx):
        return self.clock
