"""Access tokens (signed JWTs, short-lived) and refresh tokens (opaque, stored hashed).

An access token carries who the caller is: ``sub`` (user name or client id), ``kind`` (user or
client), ``role``, ``unit`` (scope unit id, null for county-wide) and, for API clients,
``scopes``; ``jti`` lets one be revoked before it expires. Pure functions of a secret and a time.
"""
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import jwt

from services.gateway.http_errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "jiceng-gateway"


def issue_access(secret: str, subject: str, kind: str, role: str, unit, minutes: int,
                 now: datetime, scopes=None) -> tuple[str, dict]:
    claims = {"iss": ISSUER, "sub": subject, "kind": kind, "role": role, "unit": unit,
              "jti": str(uuid.uuid4()), "iat": int(now.timestamp()),
              "exp": int((now + timedelta(minutes=minutes)).timestamp())}
    if scopes is not None:
        claims["scopes"] = sorted(scopes)
    return jwt.encode(claims, secret, algorithm=ALGORITHM), claims


def read_access(secret: str, token: str, now: datetime) -> dict:
    """The claims of a valid token of ours, or ``Unauthenticated`` with the reason."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "jti"],
                                     "verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"the access token is not valid ({exc})") from None
    if claims["exp"] <= now.timestamp():
        raise Unauthenticated("the access token has expired; refresh it or log in again")
    return claims


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What is stored of a refresh token or client secret lookup key: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
