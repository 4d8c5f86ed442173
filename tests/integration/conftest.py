"""Fixtures shared by the stars integration tests."""
from types import SimpleNamespace

import pytest

from services.members.service import MembersService
from services.stars import books
from services.stars.service import StarsService
from shared import db, migrate, plugins
from tests.support.fixtures import make_config


@pytest.fixture
def rulebooks():
    """What the stars service's ``Rulebooks`` dependency gives a handler: settings and books."""
    return SimpleNamespace(settings=books.settings({}), books=books.load({}))


@pytest.fixture
def system(amqp_uri, db_url_factory):
    """Start members + stars (+ extra service classes) with an optional rulebook folder."""
    started = []

    def start(rulebook_dir=None, extra=()):
        urls = {"members": db_url_factory(), "stars": db_url_factory()}
        migrate.upgrade(MembersService, urls["members"])
        migrate.upgrade(StarsService, urls["stars"])
        for cls in extra:
            urls[cls.name] = db_url_factory()
            cls.store.metadata.create_all(db.database(urls[cls.name]).engine)
            plugins.register(cls)
            started.append(cls.name)
        config = make_config(amqp_uri, urls)
        if rulebook_dir is not None:
            config["stars"] = {"rulebook_dir": str(rulebook_dir)}
        return config

    yield start
    for name in started:
        plugins.unregister(name)
