"""``jiceng new-service`` in a copy of the project: the new service's own tests pass at once,
``jiceng revision`` sees a model change, and the compose file stays valid."""
import shutil
import subprocess
import sys

import pytest

from shared.config import ROOT

pytestmark = pytest.mark.integration

COPIED = ("shared", "config", "deploy", "docker-compose.yml", "pyproject.toml", "conftest.py",
          "tests/__init__.py", "tests/support")


@pytest.fixture
def project(tmp_path):
    for name in COPIED:
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    return tmp_path


def jiceng(project, *args):
    return subprocess.run([sys.executable, "-m", "shared.cli", *args], cwd=project,
                          capture_output=True, text=True, timeout=120)


def test_a_scaffolded_service_passes_its_own_tests_and_takes_new_migrations(project):
    made = jiceng(project, "new-service", "throwaway")
    assert made.returncode == 0, made.stderr
    folder = project / "services" / "throwaway"
    assert len(list((folder / "migrations" / "versions").glob("*_initial_tables.py"))) == 1
    assert "throwaway:" in (project / "config" / "dev.yaml").read_text()
    compose = shutil.which("docker-compose")
    if compose:
        checked = subprocess.run([compose, "config", "-q"], cwd=project, capture_output=True,
                                 text=True)
        assert checked.returncode == 0, checked.stderr

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "services/throwaway"], cwd=project, capture_output=True, text=True,
                           timeout=300)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "5 passed" in tests.stdout

    again = jiceng(project, "new-service", "throwaway")
    assert again.returncode == 2 and "already exist" in again.stderr

    unchanged = jiceng(project, "revision", "throwaway", "-m", "nothing")
    assert unchanged.returncode == 0 and "nothing written" in unchanged.stdout
    models = folder / "models.py"
    models.write_text(models.read_text().replace(
        'title: Mapped[str] = mapped_column(String(200))',
        'title: Mapped[str] = mapped_column(String(200))\n'
        '    note: Mapped[str | None] = mapped_column(String(50))'))
    changed = jiceng(project, "revision", "throwaway", "-m", "entries have a note")
    assert changed.returncode == 0, changed.stderr
    [revision] = folder.glob("migrations/versions/*_entries_have_a_note.py")
    text = revision.read_text()
    assert "add_column(sa.Column('note'" in text and "drop_column('note')" in text
