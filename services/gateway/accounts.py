"""Users, API clients and their tokens: functions of a session (the rules are in ``roles``,
``tokens``, ``passwords`` and ``ratelimit``)."""
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from services.gateway import passwords, ratelimit, roles, tokens
from services.gateway.http_errors import TooManyAttempts, Unauthenticated
from services.gateway.models import ApiClient, LoginFailure, RefreshToken, RevokedAccess, User
from shared.errors import Conflict, InvalidInput


def create_user(session, data, now) -> dict:
    if data["role"] not in roles.ROLES:
        raise InvalidInput({"role": [f"must be one of {', '.join(roles.ROLES)}"]})
    if data["role"] not in roles.COUNTY_WIDE and data.get("unit_id") is None:
        raise InvalidInput({"unit_id": [f"a {data['role']} works within an organisation unit"]})
    if session.scalar(select(User.id).where(User.username == data["username"])) is not None:
        raise Conflict(f"user name {data['username']} is taken")
    user = User(username=data["username"], display_name=data["display_name"],
                password_hash=passwords.hash_password(passwords.check_strength(data["password"])),
                role=data["role"], unit_id=None if data["role"] in roles.COUNTY_WIDE
                else data["unit_id"], active=True, created_at=now)
    session.add(user)
    session.flush()
    return user_dict(user)


def user_dict(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role, "unit_id": user.unit_id, "active": user.active}


def login(session, username, password, address, settings, now) -> dict:
    """Tokens for a right password; ``Unauthenticated`` (one message for a wrong name or
    password) or ``TooManyAttempts``. Failures are recorded by the caller's own transaction
    only when this raises ``Unauthenticated`` (see ``record_failure``)."""
    limits = settings["login_limits"]
    since = now - timedelta(seconds=limits.window_seconds)
    by_name = session.scalar(select(func.count()).where(
        LoginFailure.username == username, LoginFailure.at > since))
    by_address = session.scalar(select(func.count()).where(
        LoginFailure.address == address, LoginFailure.at > since))
    oldest = session.scalar(select(func.min(LoginFailure.at)).where(
        LoginFailure.username == username, LoginFailure.at > since))
    age = (now - _aware(oldest, now)).total_seconds() if oldest is not None else 0
    wait = ratelimit.retry_after(by_name, by_address, age, limits)
    if wait is not None:
        raise TooManyAttempts(wait)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        passwords.verify(passwords.dummy_hash(), password)
        raise Unauthenticated("wrong user name or password")
    if not passwords.verify(user.password_hash, password):
        raise Unauthenticated("wrong user name or password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return _token_pair(session, user, str(uuid.uuid4()), settings, now)


def record_failure(session, username, address, now):
    session.add(LoginFailure(username=username[:64], address=address[:64], at=now))


class ReusedRefreshToken(Unauthenticated):
    """A used refresh token came again (a stolen copy?): ``revoke_family`` in a transaction of
    its own, since the refused request's transaction rolls back."""

    def __init__(self, family):
        super().__init__("the refresh token was used before; every token of this login is "
                         "revoked, log in again")
        self.family = family


def revoke_family(session, family):
    session.execute(update(RefreshToken).where(RefreshToken.family == family)
                    .values(revoked=True))


def refresh(session, refresh_token, settings, now) -> dict:
    """A new pair for a valid refresh token, which is used up. Presenting a used one again
    raises ``ReusedRefreshToken``."""
    stored = session.get(RefreshToken, tokens.digest(refresh_token), with_for_update=True)
    if stored is None or stored.revoked or _aware(stored.expires_at, now) <= now:
        raise Unauthenticated("the refresh token is not valid; log in again")
    if stored.used_at is not None:
        raise ReusedRefreshToken(stored.family)
    user = session.scalar(select(User).where(User.username == stored.username))
    if user is None or not user.active:
        raise Unauthenticated("the account is disabled")
    stored.used_at = now
    return _token_pair(session, user, stored.family, settings, now)


def logout(session, claims, refresh_token, now):
    """Revoke the access token presented and, when given, its login's refresh tokens."""
    session.merge(RevokedAccess(jti=claims["jti"], expires_at=_from_ts(claims["exp"], now)))
    if refresh_token:
        stored = session.get(RefreshToken, tokens.digest(refresh_token))
        if stored is not None and stored.username == claims["sub"]:
            revoke_family(session, stored.family)


def is_revoked(session, jti) -> bool:
    return session.get(RevokedAccess, jti) is not None


def create_client(session, data, now) -> dict:
    """An API client; its secret is shown once, in this answer."""
    if data["role"] not in roles.ROLES:
        raise InvalidInput({"role": [f"must be one of {', '.join(roles.ROLES)}"]})
    unknown = {scope for scope in data["scopes"]
               if not roles.granted(roles.ROLES[data["role"]], scope)}
    if unknown:
        raise InvalidInput({"scopes": [f"role {data['role']} does not grant "
                                       f"{', '.join(sorted(unknown))}"]})
    if session.scalar(select(ApiClient.id).where(ApiClient.client_id == data["client_id"])):
        raise Conflict(f"client id {data['client_id']} is taken")
    secret = secrets.token_urlsafe(32)
    client = ApiClient(client_id=data["client_id"], name=data["name"],
                       secret_hash=passwords.hash_password(secret), role=data["role"],
                       unit_id=data.get("unit_id"), scopes=sorted(data["scopes"]), active=True,
                       created_at=now)
    session.add(client)
    session.flush()
    return {"client_id": client.client_id, "client_secret": secret, "role": client.role,
            "unit_id": client.unit_id, "scopes": client.scopes}


def client_token(session, client_id, client_secret, requested_scopes, settings, now) -> dict:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None or not client.active:
        passwords.verify(passwords.dummy_hash(), client_secret)
        raise Unauthenticated("unknown client or wrong secret")
    if not passwords.verify(client.secret_hash, client_secret):
        raise Unauthenticated("unknown client or wrong secret")
    scopes = set(client.scopes) if not requested_scopes else set(requested_scopes)
    if not scopes <= set(client.scopes):
        raise InvalidInput({"scope": [f"not granted to this client: "
                                      f"{', '.join(sorted(scopes - set(client.scopes)))}"]})
    token, claims = tokens.issue_access(settings["secret"], client.client_id, "client",
                                        client.role, client.unit_id,
                                        settings["access_minutes"], now, scopes=scopes)
    return {"access_token": token, "token_type": "Bearer",
            "expires_in": settings["access_minutes"] * 60, "scope": " ".join(sorted(scopes))}


def _token_pair(session, user, family, settings, now) -> dict:
    access, _ = tokens.issue_access(settings["secret"], user.username, "user", user.role,
                                    user.unit_id, settings["access_minutes"], now)
    refresh_token = tokens.new_refresh_token()
    session.add(RefreshToken(digest=tokens.digest(refresh_token), family=family,
                             username=user.username,
                             expires_at=now + timedelta(days=settings["refresh_days"]),
                             used_at=None, revoked=False))
    return {"access_token": access, "refresh_token": refresh_token, "token_type": "Bearer",
            "expires_in": settings["access_minutes"] * 60, "user": user_dict(user)}


def _aware(value, now):
    """SQLite gives naive datetimes back: they were stored in UTC."""
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value


def _from_ts(timestamp, now):
    from datetime import datetime
    return datetime.fromtimestamp(timestamp, tz=now.tzinfo)
