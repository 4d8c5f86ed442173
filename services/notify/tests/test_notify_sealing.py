"""Webhook secrets at rest (``sealing``): sealed in the database, opened only to sign; a secret
stored before sealing still works; a wrong or altered one is refused; the key is checked at
start-up. Then on a real session: the row holds no secret, and a delivery is still signed with
it (verified by a fake receiver)."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from services.notify import sealing, sender, signing, subscriptions
from services.notify import settings as settings_module
from services.notify.models import Subscription
from services.notify.service import NotifyService
from shared import migrate

KEY, OTHER = Fernet.generate_key(), Fernet.generate_key()
START = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)


def test_a_sealed_secret_opens_with_its_key_only():
    sealed = sealing.seal(KEY, "s3cret")
    assert sealed.startswith("fernet:") and "s3cret" not in sealed
    assert sealing.seal(KEY, "s3cret") != sealed                 # a fresh IV every time
    assert sealing.unseal(KEY, sealed) == "s3cret"
    with pytest.raises(sealing.Unreadable, match="another key, or altered"):
        sealing.unseal(OTHER, sealed)
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(KEY, sealed[:-4] + "AAAA")
    with pytest.raises(sealing.Unreadable, match="no key"):
        sealing.unseal(None, sealed)
    assert sealing.unseal(KEY, "stored-before-sealing") == "stored-before-sealing"


def test_the_key_is_checked_and_a_local_one_is_made_once(tmp_path):
    with pytest.raises(ValueError, match="secret_key: must be a Fernet key"):
        settings_module.load({"notify": {"webhooks": {"secret_key": "too short"}}})
    given = settings_module.load({"notify": {"webhooks": {"secret_key": KEY.decode()}}})
    assert given.webhooks.secret_key == KEY
    path = tmp_path / "key"
    made = sealing.key_from(None, path)
    assert sealing.key_from(None, path) == made and oct(path.stat().st_mode)[-3:] == "600"


class Receiver:
    """A fake ``requests.post`` that verifies the signature with the plain secret."""

    def __init__(self, secret):
        self.secret, self.verified = secret, 0

    def __call__(self, url, data, headers, timeout, allow_redirects, stream):
        signing.verify(self.secret, data, headers[signing.TIMESTAMP],
                       headers[signing.SIGNATURE], now=__import__("time").time())
        self.verified += 1
        return SimpleNamespace(status_code=200, close=lambda: None,
                               iter_content=lambda size: iter([b""]))


def test_the_row_keeps_no_secret_and_the_delivery_is_still_signed_with_it(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(NotifyService, url)
    store = NotifyService.store.handle(url, source="notify")
    with store.transaction() as session:
        created = subscriptions.create(session, {"url": "http://hall.example/hook",
                                                 "event_types": ["*"]}, START, "admin",
                                       max_active=5, key=KEY)
    with store.reading() as session:
        stored = session.scalar(select(Subscription.secret))
    assert created["secret"] not in stored and sealing.unseal(KEY, stored) == created["secret"]
    settings = settings_module.load({"notify": {"webhooks": {"secret_key": KEY.decode()}}})
    item = SimpleNamespace(body='{"id": "e1"}', event_id="e1", qualified_type="members.x",
                           id=1, secret=stored, url="http://hall.example/hook")
    receiver = Receiver(created["secret"])
    assert sender.post_webhook(item, settings.webhooks, receiver) == 200
    assert receiver.verified == 1
