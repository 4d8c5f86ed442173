import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

from shared import db as _db  # noqa: E402

_db.green_postgres()

pytest_plugins = ["tests.support.fixtures"]
