"""The talent service's tables (its own database; ``Store`` adds the outbox, inbox and
stored write-RPC replies). After changing them: ``jiceng revision talent -m "what changed"``."""
from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """Organisation units as learned from the members service's events (no shared tables)."""
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))


class Entry(Base):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ID, index=True)
    title: Mapped[str] = mapped_column(String(200))
