"""docker-compose.yml and the Makefile stay in step with the installed services."""
import shutil
import subprocess

import pytest
import yaml

from shared import plugins
from shared.config import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.parametrize("name", sorted(plugins.services()))
def test_every_installed_service_has_a_container_serving_it_with_a_health_check(name):
    container = COMPOSE["services"].get(name)
    assert container, f"docker-compose.yml has no container for service {name}"
    assert f"serve {name}" in " ".join(container["command"])
    assert container["healthcheck"]["test"][-2:] == ["health", name]


def test_compose_file_is_valid_for_docker_compose():
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is installed by scripts/local-services.sh"
    result = subprocess.run([binary, "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_configured_database_of_compose_exists_in_the_init_script():
    init = (ROOT / "deploy" / "postgres-init.sql").read_text()
    for name in plugins.services():
        assert f"CREATE DATABASE {name} " in init
