"""The H.E.S.S. DR1 Crab 1D analysis in memory: Gammapy's numbers and a published result."""

from pathlib import Path

import numpy as np
import pytest
from astropy import units as u

from gammarules.analysis.spectrum_1d import fit_model, observation_table, run
from gammarules.analysis.summary import make_summary
from gammarules.config import load_config
from gammarules.data import DataStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def crab(data_dir):
    config = load_config(
        ROOT / "config/analyses/hess_crab_1d.yaml", ROOT / "workflow/schemas/analysis.schema.yaml"
    )
    return config, run(config, data_dir)


def test_gammapy_numbers(crab, hess_crab_1d_acceptance):
    config, out = crab
    fits = {mode: {k: v[1] for k, v in per.items()} for mode, per in out["fits"].items()}
    summary = make_summary(config, out["datasets"], out["stacked"], fits, out["flux_points"], {})
    hess_crab_1d_acceptance(summary)


def test_stacked_fit_agrees_with_joint(crab):
    """Stacking conserves counts, OFF background and exposure-weighted response: the stacked
    power-law fit must agree with the joint one to a small fraction of the error."""
    _, out = crab
    joint = out["fits"]["joint"]["pl"][1]["parameters"]
    stacked = out["fits"]["stacked"]["pl"][1]["parameters"]
    for j, s in zip(joint, stacked, strict=True):
        if not j["frozen"]:
            assert abs(j["value"] - s["value"]) < 0.1 * j["error"]


def test_mohrmann_2019(crab):
    """Mohrmann et al. 2019 (A&A 632, A72), H.E.S.S. DR1 Crab, 1D analysis of the same runs:
    Gamma = 2.589 +- 0.061 and phi0(1.45 TeV) = (1.586 +- 0.076)e-11 TeV-1 cm-2 s-1.
    Required: consistent within 1 sigma combined (the two analyses differ in ON region size
    and safe energy range, so only statistical consistency is expected)."""
    _, out = crab
    models, result = out["fits"]["joint"]["pl"]
    index = models[0].spectral_model.parameters["index"]
    assert abs(index.value - 2.589) < np.hypot(index.error, 0.061)
    dnde, dnde_err = models[0].spectral_model.evaluate_error(1.45 * u.TeV)
    dnde = dnde.to_value("TeV-1 cm-2 s-1")
    dnde_err = dnde_err.to_value("TeV-1 cm-2 s-1")
    assert abs(dnde - 1.586e-11) < np.hypot(dnde_err, 0.076e-11)


def test_flux_points(crab):
    """Five flux points 1-30 TeV, the first three above 5 sigma, each consistent with the fitted
    power law within 3 sigma, and the likelihood scans present."""
    _, out = crab
    table = out["flux_points"].table
    assert len(table) == 5
    assert np.all(table["sqrt_ts"][:3] > 5) and table["sqrt_ts"][3] > 3
    pull = (table["norm"] - 1) / table["norm_err"]
    assert np.all(np.abs(pull[:4]) < 3)
    assert table["stat_scan"].shape == (5, 11)


def test_minos_and_profiles_on_request(crab):
    """MINOS errors and likelihood profiles of the free parameters, when the config asks.

    The Crab power-law likelihood is close to parabolic: MINOS errors within 15 % of HESSE,
    and the profile (others re-optimised) rises by about n_sigma**2 at +-n_sigma errors.
    """
    config, out = crab
    options = {"minos": True, "profiles": {"n_sigma": 2, "n_values": 5}}
    _, result = fit_model(out["datasets"], "pl", config["fit"]["models"]["pl"], options)
    errors = {p["name"]: p["error"] for p in result["parameters"]}
    assert (
        set(result["minos"])
        == set(result["profiles"])
        == {"pl.spectral.index", "pl.spectral.amplitude"}
    )
    for label, interval in result["minos"].items():
        hesse = errors[label.rsplit(".", 1)[1]]
        assert interval["success"]
        assert interval["errn"] == pytest.approx(hesse, rel=0.15)
        assert interval["errp"] == pytest.approx(hesse, rel=0.15)
    for profile in result["profiles"].values():
        delta = np.array(profile["stat_scan"]) - result["stat"]
        assert delta[2] == pytest.approx(0, abs=1e-3)
        assert delta[[0, -1]] == pytest.approx([4, 4], rel=0.15)


def test_observation_selection_by_cone_target_and_columns(data_dir):
    """The config's selection keys: a 5 deg cone around the Crab, the target name, and any
    obs-index column range all give the four Crab runs of DR1."""
    store = DataStore.from_dir(data_dir / "hess-dl3-dr1")
    crab = {"lon": "83.633 deg", "lat": "22.014 deg", "radius": "5 deg"}
    by_cone = observation_table(store, {"datastore": "hess-dl3-dr1", "cone": crab})
    by_target = observation_table(store, {"datastore": "hess-dl3-dr1", "target": "crab"})
    by_columns = observation_table(
        store,
        {
            "datastore": "hess-dl3-dr1",
            "columns": {"RA_PNT": ["81.5 deg", "86 deg"], "DEC_PNT": [21, 23]},
        },
    )
    for table in (by_cone, by_target, by_columns):
        assert list(table["OBS_ID"]) == [23523, 23526, 23559, 23592]
    assert all(f.endswith(".fits.gz") for f in by_cone["FILES"][0].split(","))
