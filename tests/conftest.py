import eventlet

eventlet.monkey_patch()

from shared import db as _db  # noqa: E402

_db.green_postgres()

pytest_plugins = ["tests.support.fixtures"]
