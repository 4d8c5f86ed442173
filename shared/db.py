"""Database handling for SQLAlchemy 2 on SQLite (laptop default) and PostgreSQL (production).

One ``Database`` per URL per process. ``transaction()`` is the unit of work: everything done in
the block, including events added to the outbox, commits or rolls back together.

SQLite allows one writer at a time and blocks the whole OS thread while it waits, which under
eventlet would stall every green thread. So on SQLite each transaction first takes a green lock:
writers queue cooperatively instead. Scale-out (several processes of one service) needs PostgreSQL.
"""
import threading
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

_DATABASES: dict[str, "Database"] = {}
_CREATE_LOCK = threading.Lock()


class Database:
    def __init__(self, url: str, echo: bool = False):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._ensure_sqlite_folder(url)
            self.engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            # batched handlers send hundreds of rows per statement: pages of 1,000 per round trip
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=10,
                                        pool_pre_ping=True, executemany_mode="values_plus_batch",
                                        executemany_batch_page_size=500,
                                        insertmanyvalues_page_size=1000)
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self.after_commit_hooks = []  # called after a commit that added events to an outbox

    @staticmethod
    def _ensure_sqlite_folder(url):
        from pathlib import Path
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def transaction(self, session_class=Session, info=None):
        """A session in a transaction: commit on success, roll back on any exception."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            session = session_class(self.engine, expire_on_commit=False)
            session.info.update(info or {})
            try:
                with session.begin():
                    yield session
                published = session.info.get("published", 0)
            finally:
                session.close()
        finally:
            if lock is not None:
                lock.release()
        if published:
            for hook in list(self.after_commit_hooks):
                hook()

    @contextmanager
    def reading(self):
        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    def dispose(self):
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def database(url: str) -> Database:
    """The process-wide ``Database`` for ``url`` (created on first use)."""
    with _CREATE_LOCK:
        if url not in _DATABASES:
            _DATABASES[url] = Database(url)
        return _DATABASES[url]


def forget(url: str):
    with _CREATE_LOCK:
        db = _DATABASES.pop(url, None)
    if db:
        db.dispose()


def green_postgres():
    """Make psycopg2 cooperative under eventlet (call once, after monkey patching)."""
    try:
        from psycogreen.eventlet import patch_psycopg
    except ImportError:  # pragma: no cover - psycogreen is a pinned dependency
        return
    patch_psycopg()
