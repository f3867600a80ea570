"""Analysis configs: schema validation with key-naming errors, quantities, config hash."""

import copy
from pathlib import Path

import pytest
import yaml
from astropy import units as u

from gammarules.config import config_hash, load_config, quantity
from gammarules.errors import ConfigError

SCHEMA = Path(__file__).parents[2] / "workflow" / "schemas" / "analysis.schema.yaml"

CONFIG = {
    "name": "toy",
    "kind": "spectrum_1d",
    "observations": {"datastore": "hess-dl3-dr1", "obs_ids": [23523, 23526]},
    "geometry": {
        "on_region": {
            "frame": "icrs",
            "lon": "83.633 deg",
            "lat": "22.014 deg",
            "radius": "0.11 deg",
        },
        "energy": {"min": "0.1 TeV", "max": "40 TeV", "nbin": 10, "per_decade": True},
        "energy_true": {"min": "0.05 TeV", "max": "100 TeV", "nbin": 20, "per_decade": True},
    },
    "reduction": {
        "containment_correction": True,
        "safe_mask": {"methods": ["aeff-max"], "aeff_percent": 10},
    },
    "background": {
        "method": "reflected",
        "exclusion": {
            "regions": [
                {
                    "frame": "galactic",
                    "lon": "183.604 deg",
                    "lat": "-8.708 deg",
                    "radius": "0.5 deg",
                }
            ],
            "map": {"binsz": "0.05 deg", "npix": 150},
        },
    },
    "fit": {
        "models": {
            "pl": {
                "type": "PowerLawSpectralModel",
                "parameters": {
                    "index": 2,
                    "amplitude": "1e-12 TeV-1 cm-2 s-1",
                    "reference": "1 TeV",
                },
                "frozen": ["reference"],
            }
        }
    },
}


def write(tmp_path, config, name=None):
    path = tmp_path / f"{name or config['name']}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def modified(**changes):
    """A deep copy of CONFIG with ``section__key`` paths set (value None deletes the key)."""
    config = copy.deepcopy(CONFIG)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return config


def test_valid_config_is_loaded_unchanged(tmp_path):
    assert load_config(write(tmp_path, CONFIG), SCHEMA) == CONFIG


def test_repository_configs_are_valid():
    for path in sorted((SCHEMA.parents[2] / "config" / "analyses").glob("*.yaml")):
        assert load_config(path, SCHEMA)["name"] == path.stem


@pytest.mark.parametrize(
    ("changes", "key", "parent"),
    [
        ({"colour": "red"}, "colour", "<top level>"),
        ({"geometry__on_region__radiu": "0.1 deg"}, "radiu", "geometry.on_region"),
        ({"background__exclusion__map__size": 3}, "size", "background.exclusion.map"),
        ({"reduction__safe_mask__percent": 3}, "percent", "reduction.safe_mask"),
    ],
)
def test_unknown_key_names_key_and_section(tmp_path, changes, key, parent):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, modified(**changes)), SCHEMA)
    message = str(info.value)
    assert f"['{key}']" in message and f"'{parent}'" in message
    assert "toy.yaml" in message
    assert "allowed keys" in message


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"geometry__energy__nbin": "ten"}, "geometry.energy.nbin"),
        ({"geometry__energy__per_decade": "yes"}, "geometry.energy.per_decade"),
        ({"observations__obs_ids": [23523, "x"]}, "observations.obs_ids.1"),
        ({"background__method": "ring"}, "background.method"),
        ({"geometry__on_region__radius": 0.11}, "geometry.on_region.radius"),
        ({"reduction__safe_mask__aeff_percent": 150}, "reduction.safe_mask.aeff_percent"),
    ],
)
def test_wrong_type_or_value_names_the_key(tmp_path, changes, key):
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        load_config(write(tmp_path, modified(**changes)), SCHEMA)


def test_missing_required_key(tmp_path):
    with pytest.raises(ConfigError, match="'background' is a required property"):
        load_config(write(tmp_path, modified(background=None)), SCHEMA)


def test_name_must_match_the_file_name(tmp_path):
    path = write(tmp_path, CONFIG, name="other")
    with pytest.raises(ConfigError, match=r"other.yaml: key 'name' is 'toy', expected 'other'"):
        load_config(path, SCHEMA)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="absent.yaml does not exist"):
        load_config(tmp_path / "absent.yaml", SCHEMA)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ngeometry: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml is not valid YAML"):
        load_config(broken, SCHEMA)


def test_quantity_parses_and_converts():
    radius = quantity("6.6 arcmin", "deg", "geometry.on_region.radius")
    assert radius.unit == u.deg and radius.value == pytest.approx(0.11, rel=1e-14)
    assert quantity(2, "TeV", "k") == 2 * u.TeV
    assert quantity(0.5, "deg", "k").unit == u.deg
    assert quantity("100 GeV", "TeV", "k").value == pytest.approx(0.1, rel=1e-14)
    flux = quantity("1e-12 TeV-1 cm-2 s-1", "TeV-1 cm-2 s-1", "k")
    assert flux.value == pytest.approx(1e-12)


@pytest.mark.parametrize("value", ["1 TeV", "0.11", "3 s"])
def test_quantity_wrong_unit_names_the_key(value):
    with pytest.raises(
        ConfigError, match=r"config key 'geometry.on_region.radius'.*convertible to 'deg'"
    ):
        quantity(value, "deg", "geometry.on_region.radius")


@pytest.mark.parametrize("value", ["0.11 degs", "abc", None])
def test_quantity_unreadable_names_the_key(value):
    with pytest.raises(ConfigError, match="config key 'fit.energy_range'"):
        quantity(value, "TeV", "fit.energy_range")


def test_config_hash_is_stable_and_order_independent(tmp_path):
    first = config_hash(CONFIG)
    assert first == config_hash(copy.deepcopy(CONFIG))
    assert len(first) == 64 and int(first, 16) >= 0

    def reverse(node):
        if isinstance(node, dict):
            return {k: reverse(node[k]) for k in reversed(list(node))}
        return node

    reordered = reverse(CONFIG)
    assert list(reordered) != list(CONFIG)
    assert config_hash(reordered) == first
    # the same config read back from YAML
    assert config_hash(load_config(write(tmp_path, CONFIG), SCHEMA)) == first
    # any changed value changes the hash, including inside lists
    assert config_hash(modified(geometry__energy__nbin=11)) != first
    assert config_hash(modified(observations__obs_ids=[23526, 23523])) != first
    assert config_hash(CONFIG["geometry"]) != first
