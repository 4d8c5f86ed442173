import os
import warnings

# hypothesis runs its "hypothesis" entry-point plugins on import; trio's (installed with selenium)
# imports trio's socket layer, which fails on eventlet's green sockets
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

from shared import db as _db  # noqa: E402

_db.green_postgres()

pytest_plugins = ["tests.support.fixtures"]
