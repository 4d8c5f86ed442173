"""The ``gateway:`` section of the running config, with defaults (every key optional)::

    gateway:
      token_secret: ${GATEWAY_TOKEN_SECRET}   # signs access tokens; every gateway process of a
                                              # deployment needs the same one. Without it a
                                              # random one is kept in var/gateway-token-secret
                                              # (fine on one machine, not for scale-out).
      access_minutes: 15
      refresh_days: 14
      login: {max_failures: 5, window_seconds: 900}
      oidc: {...}                              # see oidc.py
      public_base_url: http://127.0.0.1:8000   # how people reach the gateway (links, QR codes)
      public_cache_seconds: 1                  # public reads (boards) kept this long per
                                               # process; 0: every read asks the service
      services: [members, stars]               # publish only these (default: every installed)

``services.gateway.web_address`` (default 127.0.0.1:8000) is where it listens."""
import secrets
from pathlib import Path

from services.gateway.ratelimit import LoginLimits
from shared.config import ROOT

DEFAULTS = {"access_minutes": 15, "refresh_days": 14,
            "login": {"max_failures": 5, "window_seconds": 900}, "oidc": None,
            "public_base_url": "http://127.0.0.1:8000", "public_cache_seconds": 1}


def read(config: dict) -> dict:
    given = config.get("gateway") or {}
    settings = {**DEFAULTS, **given}
    login = {**DEFAULTS["login"], **(given.get("login") or {})}
    for key in ("access_minutes", "refresh_days"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
            raise ValueError(f"gateway.{key}: must be a whole number from 1 to 100000")
    cache = settings["public_cache_seconds"]
    if isinstance(cache, bool) or not isinstance(cache, (int, float)) or not 0 <= cache <= 300:
        raise ValueError("gateway.public_cache_seconds: must be a number from 0 to 300")
    settings["login_limits"] = LoginLimits(int(login["max_failures"]),
                                           int(login["window_seconds"]))
    settings["secret"] = given.get("token_secret") or local_secret()
    if len(settings["secret"]) < 32:
        raise ValueError("gateway.token_secret: at least 32 characters")
    oidc = settings.get("oidc")
    if oidc:
        missing = [key for key in ("issuer", "audience", "jwks_url") if not oidc.get(key)]
        if missing:
            raise ValueError(f"gateway.oidc: needs {', '.join(missing)}")
    return settings


def local_secret(folder: Path = ROOT / "var") -> str:
    path = folder / "gateway-token-secret"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
