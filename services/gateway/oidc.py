"""Tokens from the county's OpenID Connect identity provider (optional, ``gateway.oidc``).

    gateway:
      oidc:
        issuer: https://id.county.gov.cn/realms/staff
        audience: jiceng
        jwks_url: https://id.county.gov.cn/realms/staff/protocol/openid-connect/certs
        username_claim: preferred_username
        role_claim: jiceng_role          # a claim holding one of our role names (or mapped)
        unit_claim: jiceng_unit          # the organisation unit id of the user's scope
        roles_map: {county-staff: county_admin, township: township_staff}

A token whose ``iss`` is the configured issuer is verified against the provider's keys (RS256
or ES256, fetched from ``jwks_url`` and cached) and mapped to a caller with a local role."""
import jwt

from services.gateway import roles
from services.gateway.http_errors import Unauthenticated

_CLIENTS: dict = {}


def is_external(token: str, settings) -> bool:
    config = settings.get("oidc")
    if not config:
        return False
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return False
    return issuer == config["issuer"]


def read(token: str, settings) -> dict:
    config = settings["oidc"]
    client = _CLIENTS.get(config["jwks_url"])
    if client is None:
        client = _CLIENTS[config["jwks_url"]] = jwt.PyJWKClient(config["jwks_url"],
                                                                cache_keys=True, lifespan=300)
    try:
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=["RS256", "ES256"],
                          audience=config["audience"], issuer=config["issuer"],
                          options={"require": ["exp", "iss", "aud"]})
    except jwt.PyJWKClientError as exc:
        raise Unauthenticated(f"the identity provider's keys could not be read ({exc})") \
            from None
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"the identity provider's token is not valid ({exc})") from None


def caller(claims: dict, settings) -> dict:
    config = settings["oidc"]
    given = claims.get(config.get("role_claim", "jiceng_role"))
    role = (config.get("roles_map") or {}).get(given, given)
    if role not in roles.ROLES:
        raise Unauthenticated(f"the identity provider gives no Jiceng role for this user "
                              f"({config.get('role_claim', 'jiceng_role')}={given!r})")
    unit = claims.get(config.get("unit_claim", "jiceng_unit"))
    if role not in roles.COUNTY_WIDE and not isinstance(unit, int):
        raise Unauthenticated("the identity provider gives no organisation unit for this user")
    return {"user": str(claims.get(config.get("username_claim", "preferred_username"))
                        or claims["sub"]), "kind": "oidc", "role": role,
            "scope_unit_id": None if role in roles.COUNTY_WIDE else unit,
            "permissions": roles.permissions_of(role)}
