"""The gateway's tables: accounts, tokens, login attempts, the audit log and the organisation
tree it checks scopes against (learned from the members service's events). After changing
them: ``jiceng revision gateway -m "what changed"``."""
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """An organisation unit as learned from members' org_unit_created / org_unit_changed."""
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ID)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class ApiClient(Base):
    """An integrating system (OAuth2 client credentials): a role, a scope unit and the subset
    of the role's permissions it may use."""
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ID)
    scopes: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """Stored as a SHA-256; ``family`` links the rotations of one login, so a reused (stolen)
    refresh token revokes the whole family."""
    __tablename__ = "refresh_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class RevokedAccess(Base):
    """Access tokens revoked before they expire (logout); kept until their expiry."""
    __tablename__ = "revoked_access"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    expires_at: Mapped[object] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailure(Base):
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name_at", "username", "at"),
                      Index("ix_login_failures_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[object] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One write through the gateway. Append-only: no API updates or deletes these rows."""
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    at: Mapped[object] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(100))
    status: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
