"""Alembic, one history per service, driven from code (no alembic.ini to keep in step).

A service keeps ``migrations/env.py`` (two lines calling ``run_env``), ``migrations/script.py.mako``
and ``migrations/versions/``. ``upgrade`` brings a database to head; ``revision`` autogenerates.
"""
import inspect
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, pool




def alembic_config(service_cls, url: str) -> Config:
    folder = Path(inspect.getfile(service_cls)).parent / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(folder))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["target_metadata"] = service_cls.store.metadata
    cfg.attributes["url"] = url
    return cfg


def upgrade(service_cls, url: str):
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service_cls, url), "head")


def revision(service_cls, url: str, message: str):
    command.revision(alembic_config(service_cls, url), message=message, autogenerate=True)


def run_env():
    """Body of every service's ``migrations/env.py``."""
    cfg = context.config
    metadata = cfg.attributes["target_metadata"]
    url = cfg.attributes["url"]
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=url.startswith("sqlite"), compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()
