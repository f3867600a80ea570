"""Where the public gamma-ray data collection lives on this machine."""

from __future__ import annotations

import os
from pathlib import Path

from gammarules.errors import ConfigError

__all__ = ["ENV_VAR", "resolve_data_dir"]

ENV_VAR = "GAMMARULES_DATA"

_HOW_TO_GET = (
    "Point {env} (or `data_dir` in the analysis config) to a directory with the layout of the "
    "public gamma-ray data collection (hess-dl3-dr1/, cta-1dc/, ...). H.E.S.S. DL3 DR1 is public "
    "on Zenodo (record 1421099) and in the gammapy-data collection; download it and set e.g. "
    "`export {env}=/path/to/data`."
)


def resolve_data_dir(data_dir=None, required=None):
    """Return the data directory: ``data_dir`` if given, else ``$GAMMARULES_DATA``.

    ``required`` names a sub-directory (e.g. ``"hess-dl3-dr1"``) that must exist in it.
    """
    source = "data_dir" if data_dir else ENV_VAR
    value = data_dir or os.environ.get(ENV_VAR)
    if not value:
        raise ConfigError(
            f"no data directory configured: neither `data_dir` nor ${ENV_VAR} is set. "
            + _HOW_TO_GET.format(env=ENV_VAR)
        )
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(
            f"data directory {path} (from {source}) does not exist. "
            + _HOW_TO_GET.format(env=ENV_VAR)
        )
    if required and not (path / required).is_dir():
        raise ConfigError(
            f"data directory {path} (from {source}) has no '{required}' sub-directory. "
            + _HOW_TO_GET.format(env=ENV_VAR)
        )
    return path
