"""Passwords, hashed with argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile)."""
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import InvalidInput

_HASHER = PasswordHasher()
MIN_LENGTH = 10


def check_strength(password, field="password"):
    if not isinstance(password, str) or len(password) < MIN_LENGTH or len(password) > 256:
        raise InvalidInput({field: [f"must be {MIN_LENGTH} to 256 characters"]})
    if password.strip() != password or len(set(password)) < 4:
        raise InvalidInput({field: ["is too simple (no leading or trailing spaces, at least 4 "
                                    "different characters)"]})
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


@functools.cache
def dummy_hash() -> str:
    """Verified against when a user name is unknown, so both answers take as long. Made on the
    first such login, not at import: hashing holds 64 MiB for a moment, and every service
    process that imports the gateway's modules would carry that peak."""
    return _HASHER.hash("not a password of anyone's")
