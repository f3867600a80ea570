"""The conda environment and pyproject.toml list the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-only build tools and the interpreter itself are not Python runtime dependencies
CONDA_ONLY = {"python", "cxx-compiler", "cmake", "pip"}


def _split(requirement):
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    expected = dict(_split(r) for r in project["dependencies"])
    expected.update(_split(r) for r in project["optional-dependencies"]["test"])
    expected.update(_split(r) for r in pyproject["build-system"]["requires"])

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    conda = {k: v for k, v in conda.items() if k not in CONDA_ONLY}

    assert conda == expected
