import pytest

from shared import config


def test_variables_are_substituted_with_defaults_and_environment():
    text = "a: ${A:1}\nb: ${B:x y}\nc: ${C}\n"
    assert config.substitute(text, {"C": "3", "B": "set"}) == "a: 1\nb: set\nc: 3\n"


def test_a_required_variable_that_is_missing_is_named():
    with pytest.raises(config.ConfigError, match="MEMBERS_DATABASE_URL"):
        config.substitute("url: ${MEMBERS_DATABASE_URL}", {})


def test_load_parses_types_after_substitution(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text("max_workers: ${WORKERS:10}\nbus:\n  retry_delays_ms: [5]\n")
    monkeypatch.setenv("WORKERS", "4")
    loaded = config.load(path)
    assert loaded["max_workers"] == 4
    assert loaded["bus"]["retry_delays_ms"] == [5]
    assert loaded["bus"]["relay_batch_size"] == config.BUS_DEFAULTS["relay_batch_size"]


def test_missing_file_and_non_mapping_are_refused(tmp_path):
    with pytest.raises(config.ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n")
    with pytest.raises(config.ConfigError, match="mapping"):
        config.load(bad)


def test_relative_sqlite_urls_resolve_under_the_project_and_default_per_service():
    cfg = {"services": {"members": {"database_url": "sqlite:///var/m.db"}}}
    assert config.database_url(cfg, "members") == f"sqlite:///{config.ROOT / 'var/m.db'}"
    assert config.database_url(cfg, "stars").endswith("var/stars.db")
    assert config.database_url({"services": {"x": {"database_url": "postgresql://h/db"}}}, "x") \
        == "postgresql://h/db"


@pytest.mark.parametrize("name", ["dev.yaml", "compose.yaml", "test.yaml"])
def test_shipped_configs_load_without_environment(name):
    loaded = config.load(config.ROOT / "config" / name, environ={})
    assert loaded["AMQP_URI"].startswith("amqp://")


def test_prod_config_demands_its_secrets():
    with pytest.raises(config.ConfigError, match="AMQP_URI"):
        config.load(config.ROOT / "config" / "prod.yaml", environ={})


PROD_ENVIRONMENT = {name: "x" for name in (
    "AMQP_URI", "MEMBERS_DATABASE_URL", "STARS_DATABASE_URL", "AFFAIRS_DATABASE_URL",
    "TICKETS_DATABASE_URL", "TALENT_DATABASE_URL", "GATEWAY_DATABASE_URL",
    "NOTIFY_DATABASE_URL", "GATEWAY_TOKEN_SECRET", "PUBLIC_BASE_URL")}
PROD_ENVIRONMENT["NOTIFY_WEBHOOK_KEY"] = "0" * 43 + "="    # a Fernet key: 44 chars of base64


@pytest.mark.parametrize("name", ["dev.yaml", "compose.yaml", "test.yaml"])
def test_shipped_configs_give_notify_settings_it_accepts(name):
    from services.notify import settings
    loaded = settings.load(config.load(config.ROOT / "config" / name, environ={}))
    assert loaded.channel == "file"


def test_prod_notify_sends_sms_and_will_not_start_without_the_gateway_url():
    from services.notify import settings
    with pytest.raises(ValueError, match="notify.sms_http.url: required"):
        settings.load(config.load(config.ROOT / "config" / "prod.yaml",
                                  environ=PROD_ENVIRONMENT))
    given = {**PROD_ENVIRONMENT, "NOTIFY_SMS_URL": "https://sms.county.example/send",
             "NOTIFY_SMS_TOKEN": "t0ken"}
    loaded = settings.load(config.load(config.ROOT / "config" / "prod.yaml", environ=given))
    assert loaded.channel == "sms_http" and loaded.sms_http.url.endswith("/send")
    assert loaded.sms_http.token == "t0ken"
    assert loaded.webhooks.secret_key == PROD_ENVIRONMENT["NOTIFY_WEBHOOK_KEY"].encode()


def test_prod_demands_the_key_that_seals_webhook_secrets():
    given = {k: v for k, v in PROD_ENVIRONMENT.items() if k != "NOTIFY_WEBHOOK_KEY"}
    with pytest.raises(config.ConfigError, match="NOTIFY_WEBHOOK_KEY"):
        config.load(config.ROOT / "config" / "prod.yaml", environ=given)
