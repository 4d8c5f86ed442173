"""Evidence files (minutes, sign-in sheets, ballots, photos) stored by content: a file's name
under the evidence folder is its SHA-256, so the same file is stored once, a stored file can be
checked against its hash at any time, and a file written by a request that was then refused is
only an unreferenced copy."""
import hashlib
import os
import tempfile
from pathlib import Path


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def relative_path(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


def store(folder: Path, content: bytes) -> tuple[str, str]:
    """Write ``content`` under ``folder`` (atomically, once); ``(sha256, relative path)``."""
    digest = sha256_hex(content)
    target = Path(folder) / relative_path(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(scratch, target)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
    return digest, relative_path(digest)


def read(folder: Path, path: str) -> bytes | None:
    """The stored bytes, or None when the file is gone."""
    target = Path(folder) / path
    return target.read_bytes() if target.is_file() else None
