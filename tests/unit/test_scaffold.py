"""``jiceng new-service``: the files it renders and the wiring edits, without writing a project."""
import pytest
import yaml

from shared import scaffold
from shared.config import ROOT
from shared.scaffold import wiring


def test_render_gives_a_complete_service_with_every_placeholder_filled():
    files = scaffold.render("affairsx")
    for expected in ("services/affairsx/service.py", "services/affairsx/rules.py",
                     "services/affairsx/models.py", "services/affairsx/schemas.py",
                     "services/affairsx/pyproject.toml", "services/affairsx/migrations/env.py",
                     "services/affairsx/tests/test_affairsx_service.py",
                     "shared/contracts/affairsx.py"):
        assert expected in files
    assert not [path for path, text in files.items() if "{{" in text or "{{" in path]
    assert 'affairsx = "services.affairsx.service:AffairsxService"' in \
        files["services/affairsx/pyproject.toml"]
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")


@pytest.mark.parametrize("name", ["", "A", "x", "tickets-2", "2fa", "class", "shared", "a" * 40])
def test_names_that_cannot_name_a_package_queue_and_database_are_refused(name):
    with pytest.raises(scaffold.ScaffoldError):
        scaffold.render(name)


def test_config_gets_the_service_at_the_end_of_its_services_section_keeping_comments():
    text = "# top\nbus:\n  a: 1\nservices:\n  members:\n    database_url: x\n\n# after\nother: 2\n"
    edited = wiring.add_to_services_section(text, "affairs", "${AFFAIRS_DATABASE_URL}", "dev.yaml")
    assert edited.startswith("# top\n")
    loaded = yaml.safe_load(edited)
    assert loaded["services"]["affairs"] == {"database_url": "${AFFAIRS_DATABASE_URL}"}
    assert loaded["other"] == 2 and loaded["services"]["members"] == {"database_url": "x"}
    with pytest.raises(wiring.WiringError, match="already configures"):
        wiring.add_to_services_section(edited, "affairs", "y", "dev.yaml")


def test_compose_gains_a_container_and_its_database_url_and_stays_valid_yaml():
    edited = wiring.add_to_compose((ROOT / "docker-compose.yml").read_text(), "affairsx")
    compose = yaml.safe_load(edited)
    container = compose["services"]["affairsx"]
    assert "serve affairsx" in " ".join(container["command"])
    assert container["healthcheck"]["test"][-2:] == ["health", "affairsx"]
    assert container["environment"]["AFFAIRSX_DATABASE_URL"].endswith("/affairsx")
    with pytest.raises(wiring.WiringError):
        wiring.add_to_compose(edited, "affairsx")


def test_plan_covers_every_config_file_compose_and_the_database_init(tmp_path):
    for folder in ("config", "deploy"):
        (tmp_path / folder).mkdir()
    for name in wiring.CONFIG_URLS:
        (tmp_path / "config" / name).write_text((ROOT / "config" / name).read_text())
    (tmp_path / "docker-compose.yml").write_text((ROOT / "docker-compose.yml").read_text())
    (tmp_path / "deploy" / "postgres-init.sql").write_text("CREATE DATABASE members OWNER jiceng;\n")
    edits = wiring.plan(tmp_path, "affairsx")
    assert set(edits) == {*(f"config/{n}" for n in wiring.CONFIG_URLS), "docker-compose.yml",
                          "deploy/postgres-init.sql"}
    assert "sqlite:///var/affairsx.db" in edits["config/dev.yaml"]
    assert edits["deploy/postgres-init.sql"].endswith("CREATE DATABASE affairsx OWNER jiceng;\n")
