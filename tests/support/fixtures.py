import pytest

from shared import config as config_module
from shared import db
from tests.support import broker


@pytest.fixture
def vhost():
    name = broker.create_vhost()
    yield name
    broker.delete_vhost(name)


@pytest.fixture
def amqp_uri(vhost):
    return broker.amqp_uri(vhost)


@pytest.fixture
def pg_url_factory():
    created = []

    def make():
        url = broker.create_pg_database()
        created.append(url)
        return url

    yield make
    for url in created:
        broker.drop_pg_database(url)


@pytest.fixture
def sqlite_url_factory(tmp_path):
    counter = iter(range(1000))
    urls = []

    def make():
        url = f"sqlite:///{tmp_path}/db{next(counter)}.sqlite"
        urls.append(url)
        return url

    yield make
    for url in urls:
        db.forget(url)


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url_factory(request, pg_url_factory, sqlite_url_factory):
    """Both supported databases: every test using it runs once on each."""
    return pg_url_factory if request.param == "postgresql" else sqlite_url_factory


def make_config(amqp_uri, databases: dict, **bus):
    return config_module.with_defaults({
        "AMQP_URI": amqp_uri,
        "max_workers": 10,
        "bus": {"retry_delays_ms": [200, 400], "relay_poll_seconds": 0.2, **bus},
        "services": {name: {"database_url": url} for name, url in databases.items()},
    })
