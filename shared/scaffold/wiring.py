"""Adding a service to the files every deployment reads: the ``services:`` section of each
``config/*.yaml``, ``docker-compose.yml`` and ``deploy/postgres-init.sql``.

Text edits, not YAML rewrites, so comments and layout survive. ``plan`` returns the new texts
without writing anything, and refuses if the service is already there."""
import re
from pathlib import Path

CONFIG_URLS = {
    "dev.yaml": "${{{upper}_DATABASE_URL:sqlite:///var/{name}.db}}",
    "compose.yaml": "${{{upper}_DATABASE_URL:postgresql://jiceng:jiceng@postgres:5432/{name}}}",
    "prod.yaml": "${{{upper}_DATABASE_URL}}",
    "test.yaml": "${{{upper}_DATABASE_URL:postgresql://postgres@127.0.0.1:5432/jiceng_{name}_test}}",
}


class WiringError(Exception):
    pass


def plan(root: Path, name: str) -> dict[str, str]:
    edits = {}
    for file_name, url in CONFIG_URLS.items():
        path = root / "config" / file_name
        if path.exists():
            edits[f"config/{file_name}"] = add_to_services_section(
                path.read_text(encoding="utf-8"), name,
                url.format(upper=name.upper(), name=name), file_name)
    compose = root / "docker-compose.yml"
    if compose.exists():
        edits["docker-compose.yml"] = add_to_compose(compose.read_text(encoding="utf-8"), name)
    init = root / "deploy" / "postgres-init.sql"
    if init.exists():
        text = init.read_text(encoding="utf-8")
        line = f"CREATE DATABASE {name} OWNER jiceng;"
        if line in text:
            raise WiringError(f"deploy/postgres-init.sql already creates database {name}")
        edits["deploy/postgres-init.sql"] = text.rstrip("\n") + "\n" + line + "\n"
    return edits


def add_to_services_section(text: str, name: str, url: str, where: str) -> str:
    lines = text.splitlines()
    try:
        start = lines.index("services:")
    except ValueError:
        raise WiringError(f"config/{where} has no top-level 'services:' section") from None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "#"))):
        if re.match(rf"^  {re.escape(name)}:\s*$", lines[end]):
            raise WiringError(f"config/{where} already configures service {name}")
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    block = [f"  {name}:", f"    database_url: {url}"]
    return "\n".join(lines[:end] + block + lines[end:]) + "\n"


def add_to_compose(text: str, name: str) -> str:
    upper = name.upper()
    if re.search(rf"^  {re.escape(name)}:\s*$", text, re.M):
        raise WiringError(f"docker-compose.yml already has a service {name}")
    env_lines = re.findall(r"^ {4}[A-Z_]+_DATABASE_URL: .*$", text, re.M)
    if not env_lines:
        raise WiringError("docker-compose.yml: no *_DATABASE_URL line in the shared service "
                          "environment to add one beside")
    env = (f"    {upper}_DATABASE_URL: postgresql://jiceng:${{POSTGRES_PASSWORD:-jiceng}}"
           f"@postgres:5432/{name}")
    text = text.replace(env_lines[-1], env_lines[-1] + "\n" + env, 1)
    container = f"""  {name}:
    <<: *service
    command: ["sh", "-c", "jiceng migrate {name} && exec jiceng serve {name}"]
    healthcheck:
      test: ["CMD", "jiceng", "health", "{name}"]
      interval: 30s
      timeout: 15s
      retries: 3
      start_period: 30s

"""
    marker = re.search(r"^volumes:\s*$", text, re.M)
    if marker is None:
        raise WiringError("docker-compose.yml: no top-level 'volumes:' to add the container before")
    return text[:marker.start()] + container + text[marker.start():]
