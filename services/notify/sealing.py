"""Webhook secrets at rest: sealed with the deployment's key, so a copy of notify's database
(a backup, a dump handed to a vendor) does not give away the secrets that receivers check
signatures with.

``seal(key, secret)`` is ``"fernet:" + token`` (Fernet from ``cryptography``: AES-128-CBC with
an HMAC-SHA256 tag, so a token altered in the database is refused, not misread). ``unseal``
opens it; a stored value without the prefix is a secret stored before sealing and is returned
as it is. The key is ``notify.webhooks.secret_key`` (``NOTIFY_WEBHOOK_KEY`` in compose and prod;
every notify process of a deployment needs the same one; make one with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``).
Without one, a key is made once and kept in ``var/notify-webhook-key`` (fine on one machine,
as ``make run`` has it; not for several hosts)."""
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shared.config import ROOT

PREFIX = "fernet:"
LOCAL_KEY = ROOT / "var" / "notify-webhook-key"


class Unreadable(Exception):
    """A sealed secret this key cannot open (another deployment's key, or altered)."""


def key_from(given, path: Path = LOCAL_KEY) -> bytes:
    """The configured key, checked (``ValueError`` naming what is wrong), or the local one."""
    if given:
        key = given.encode() if isinstance(given, str) else given
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError("must be a Fernet key: 32 bytes in URL-safe base64 (44 "
                             "characters)") from None
        return key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
    return path.read_bytes().strip()


def seal(key: bytes | None, secret: str) -> str:
    if key is None:
        return secret
    return PREFIX + Fernet(key).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(key: bytes | None, stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    if key is None:
        raise Unreadable("the secret is sealed and no key is configured")
    try:
        return Fernet(key).decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise Unreadable("the secret was sealed with another key, or altered") from None
