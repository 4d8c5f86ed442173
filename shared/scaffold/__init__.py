"""``jiceng new-service NAME``: a new service that runs, is tested and is deployable at once.

``render(name)`` gives the files of ``services/NAME/`` (from ``template/``, pure); ``create``
writes them, the contract module ``shared/contracts/NAME.py`` and the first migration, and
adds the service to the config files, ``docker-compose.yml`` and the database init script
(``wiring``). Nothing is overwritten: an existing folder or config entry stops it first.
"""
import keyword
import re
from pathlib import Path

from shared.scaffold import wiring

TEMPLATE = Path(__file__).parent / "template"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,30}$")
RESERVED = {"shared", "tests", "bench", "chaos", "services", "config", "jiceng"}


class ScaffoldError(Exception):
    pass


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise ScaffoldError(f"service name {name!r}: 2 to 31 lowercase letters and digits, "
                            "starting with a letter (it names a package, a queue prefix, a "
                            "database and a container)")
    if keyword.iskeyword(name) or name in RESERVED:
        raise ScaffoldError(f"service name {name!r} is reserved")
    return name


def class_name(name: str) -> str:
    return name.capitalize() + "Service"


def substitute(text: str, name: str) -> str:
    return (text.replace("{{name}}", name).replace("{{Class}}", class_name(name))
            .replace("{{NAME}}", name.upper()))


def render(name: str) -> dict[str, str]:
    """``{path relative to the project root: text}`` for the new service's own files."""
    check_name(name)
    files = {}
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = substitute(str(source.relative_to(TEMPLATE))[:-len(".tmpl")], name)
        target = (f"shared/contracts/{name}.py" if relative == "contracts.py"
                  else f"services/{name}/{relative}")
        files[target] = substitute(source.read_text(encoding="utf-8"), name)
    return files


def create(root: Path, name: str) -> list[str]:
    """Write the service under ``root`` and wire it in; returns what was written or changed."""
    files = render(name)
    root = Path(root)
    taken = [path for path in files if (root / path).exists()]
    if taken:
        raise ScaffoldError(f"{', '.join(taken)} already exist(s): pick another name")
    edits = wiring.plan(root, name)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (root / "services" / name / "migrations" / "versions").mkdir(exist_ok=True)
    for path, text in edits.items():
        (root / path).write_text(text, encoding="utf-8")
    return sorted(files) + sorted(edits)


def next_steps(name: str) -> str:
    return f"""Service {name} created, with its first migration. Next:
  make test      installs it, then runs its own tests (services/{name}/tests), the contract
                 suite, the HTTP route checks and the input fuzzing against it
  make run       starts it with the others (`.venv/bin/jiceng health {name}`); the gateway
                 publishes its routes (services/{name}/api.py) under /api/v1/{name}/...
Then grow it:
  rules.py       pure rules, unit-tested without a database
  models.py      then `.venv/bin/jiceng revision {name} -m "what changed"` (until the service is
                 first released you may delete the initial revision and make it again)
  schemas.py     inputs from shared.inputs fields (the fuzz suite expects them)
  entries.py     functions of a session; service.py stays a line per method
  api.py         HTTP routes; permissions {name}.read (every role) and {name}.write (grant it
                 to roles in services/gateway/roles.py)
  shared/contracts/{name}.py   the events it publishes
Optional hooks on the class (see shared/service.py): rpc_examples (valid calls the fuzz suite
mutates), load_demo_live (demo data for `make run`).
"""
