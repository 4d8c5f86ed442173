"""Throw-away RabbitMQ vhosts and PostgreSQL databases for tests, so runs never see each
other's messages or rows. Everything created here is deleted again."""
import os
import uuid
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, text

RABBIT_HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_API = os.environ.get("TEST_RABBIT_API", f"http://{RABBIT_HOST}:15672/api")
RABBIT_AUTH = ("guest", "guest")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def create_vhost(prefix="jiceng-test") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    response = requests.put(f"{RABBIT_API}/vhosts/{quote(name, safe='')}", auth=RABBIT_AUTH, timeout=10)
    response.raise_for_status()
    response = requests.put(f"{RABBIT_API}/permissions/{quote(name, safe='')}/guest", auth=RABBIT_AUTH,
                            json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10)
    response.raise_for_status()
    return name


def delete_vhost(name: str):
    requests.delete(f"{RABBIT_API}/vhosts/{quote(name, safe='')}", auth=RABBIT_AUTH, timeout=10)


def amqp_uri(vhost: str) -> str:
    return f"amqp://guest:guest@{RABBIT_HOST}:5672/{quote(vhost, safe='')}"


def queue_info(vhost: str, queue: str) -> dict:
    response = requests.get(f"{RABBIT_API}/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}",
                            auth=RABBIT_AUTH, timeout=10)
    if response.status_code == 404:
        return {}
    response.raise_for_status()
    return response.json()


def queue_depth(amqp: str, queue: str) -> int | None:
    """Messages ready + unacknowledged, read over AMQP (passive declare); None if absent."""
    from kombu import Connection
    with Connection(amqp) as connection:
        channel = connection.channel()
        try:
            _, ready, _ = channel.queue_declare(queue, passive=True)
        except Exception:
            return None
        finally:
            try:
                channel.close()
            except Exception:
                pass
    return ready


def create_pg_database(prefix="jiceng_t") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str):
    from shared import db
    db.forget(url)
    name = url.rsplit("/", 1)[1]
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def connections(vhost: str, named: str = "") -> list[dict]:
    """Client connections of ``vhost`` whose client-given name starts with ``named`` (the
    management API lists a connection a few seconds after it opened)."""
    response = requests.get(f"{RABBIT_API}/vhosts/{quote(vhost, safe='')}/connections",
                            auth=RABBIT_AUTH, timeout=10)
    response.raise_for_status()
    return [c for c in response.json()
            if (c.get("client_properties") or {}).get("connection_name", "").startswith(named)]


def close_connection(name: str):
    """Close a connection from the broker's side, as a network failure would."""
    requests.delete(f"{RABBIT_API}/connections/{quote(name, safe='')}", auth=RABBIT_AUTH,
                    timeout=10).raise_for_status()


def _pg_admin(statement: str):
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def refuse_pg_connections(url: str):
    """A database outage: the database at ``url`` refuses new connections and loses the ones it
    has (undo with ``accept_pg_connections``)."""
    import time
    name = url.rsplit("/", 1)[1]
    _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    for _ in range(2):      # again: a connection may have opened while the first ALTER ran
        _pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        time.sleep(0.2)


def accept_pg_connections(url: str):
    _pg_admin(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" ALLOW_CONNECTIONS true')
