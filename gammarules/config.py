"""Analysis configuration: loading, schema validation, and quantities with checked units."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import yaml
from astropy import units as u

from gammarules.errors import ConfigError

__all__ = ["config_hash", "load_config", "quantity", "validate_config"]


def _key_path(error):
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate_config(config, schema, source="config"):
    """Validate ``config`` against a JSON schema; raise ConfigError naming the first bad key."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if not errors:
        return config
    error = errors[0]
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        raise ConfigError(
            f"{source}: unknown key(s) {extra} in '{_key_path(error)}'; allowed keys: {known}"
        )
    raise ConfigError(f"{source}: key '{_key_path(error)}': {error.message}")


def load_config(path, schema_path):
    """Read a YAML analysis config and validate it against the YAML/JSON schema file."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"analysis config {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"analysis config {path} is not valid YAML: {exc}") from exc
    schema = yaml.safe_load(Path(schema_path).read_text())
    validate_config(config, schema, source=str(path))
    if config.get("name") != path.stem:
        raise ConfigError(f"{path}: key 'name' is {config.get('name')!r}, expected {path.stem!r}")
    return config


def quantity(value, unit, key):
    """Parse ``value`` ("0.11 deg" or a number) as a Quantity convertible to ``unit``.

    A bare number is taken to be in ``unit``. ``key`` names the config entry in errors.
    """
    try:
        q = u.Quantity(value, unit) if isinstance(value, int | float) else u.Quantity(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config key '{key}': cannot read {value!r} as a quantity") from exc
    if not q.unit.is_equivalent(unit):
        raise ConfigError(
            f"config key '{key}': {value!r} has unit '{q.unit}', "
            f"expected a unit convertible to '{unit}'"
        )
    return q.to(unit)


def config_hash(config):
    """A stable SHA-256 of a config (or config section)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
