"""Provenance carried by every product: software versions, config hash, input checksums."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import gammarules
from gammarules.config import config_hash

__all__ = ["file_checksum", "provenance", "step_log"]

_PACKAGES = ("numpy", "scipy", "astropy", "iminuit", "xarray", "regions")


def file_checksum(path, algorithm="sha256"):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"{algorithm}:{digest.hexdigest()}"


def _git_revision():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(gammarules.__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def provenance(inputs=(), config=None):
    """Provenance dict: versions, git revision, config hash and input checksums."""
    return {
        "gammarules_version": gammarules.__version__,
        "git_revision": _git_revision(),
        "versions": {name: version(name) for name in _PACKAGES},
        "config_hash": config_hash(config) if config is not None else None,
        "inputs": {str(p): file_checksum(p) for p in inputs},
    }


@contextmanager
def step_log(path):
    """Log the ``gammarules`` logger to ``path``; a failure is logged before it propagates."""
    logger = logging.getLogger("gammarules")
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield logger
    except Exception:
        logger.exception("step failed")
        raise
    finally:
        logger.removeHandler(handler)
        handler.close()
