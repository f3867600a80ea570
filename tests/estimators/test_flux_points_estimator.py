"""Flux points on Asimov spectra against closed forms and the datasets' own statistic."""

import numpy as np
import pytest
from astropy import units as u
from numpy.testing import assert_allclose

from gammarules.errors import ConfigError, GammarulesError
from gammarules.estimators import FluxPoints, FluxPointsEstimator
from gammarules.models import Models, PowerLawSpectralModel, SkyModel
from gammarules.stats import cash

EDGES = [0.1, 1, 10, 100] * u.TeV


def cash_stat(data, mask, norm, signal=None):
    """Cash statistic of the bins in ``mask`` with the source scaled by ``norm``."""
    signal = data.signal if signal is None else signal
    return cash(data.counts[mask], data.background[mask] + norm * signal[mask]).sum()


def test_asimov_norms_and_errors(asimov):
    data = asimov()
    points = FluxPointsEstimator(EDGES).run([data.dataset])
    assert isinstance(points, FluxPoints) and points.sed_type == "likelihood"
    table = points.table
    assert_allclose(table["norm"], 1, atol=1e-3)
    assert np.all(table["success"])
    for row in table:
        mask = data.bins(row["e_min"], row["e_max"])
        fisher = np.sum(data.signal[mask] ** 2 / data.counts[mask])
        assert_allclose(row["norm_err"], 1 / np.sqrt(fisher), rtol=1e-3)
        assert_allclose(row["counts"], data.counts[mask].sum(), rtol=1e-12)
        assert_allclose(row["npred"], data.counts[mask].sum(), rtol=1e-3)
        assert_allclose(row["npred_excess"], row["norm"] * data.signal[mask].sum(), rtol=1e-12)


def test_errors_and_upper_limits_are_profile_crossings(asimov):
    data = asimov(exposure=3e11)  # low counts: asymmetric errors
    table = FluxPointsEstimator(EDGES, n_sigma=1, n_sigma_ul=2).run(data.dataset).table
    for row in table:
        mask = data.bins(row["e_min"], row["e_max"])
        best = cash_stat(data, mask, row["norm"])
        assert_allclose(row["stat"], best, rtol=1e-12)
        low, high = row["norm"] - row["norm_errn"], row["norm"] + row["norm_errp"]
        assert_allclose(cash_stat(data, mask, low) - best, 1, atol=1e-6)
        assert_allclose(cash_stat(data, mask, high) - best, 1, atol=1e-6)
        assert_allclose(cash_stat(data, mask, row["norm_ul"]) - best, 4, atol=1e-6)
        assert row["norm_ul"] > high > row["norm"] > low
    assert np.all(table["norm_errp"] > table["norm_errn"])  # Poisson: longer upper tail
    assert table.meta["UL_CONF"] == pytest.approx(0.9545, abs=1e-4)


def test_ts_is_likelihood_ratio_to_no_source(asimov):
    data = asimov()
    table = FluxPointsEstimator(EDGES).run(data.dataset).table
    for row in table:
        mask = data.bins(row["e_min"], row["e_max"])
        ts = cash_stat(data, mask, 0) - cash_stat(data, mask, row["norm"])
        assert_allclose(row["ts"], ts, rtol=1e-9)
        assert_allclose(row["stat_null"], cash_stat(data, mask, 0), rtol=1e-12)
    assert np.all(table["ts"][:2] > 25) and 0 < table["ts"][2] < 4  # few counts above 10 TeV
    assert_allclose(table["sqrt_ts"], np.sqrt(table["ts"]), rtol=1e-12)
    assert list(table["is_ul"]) == [False, False, True]  # ts < 2**2
    table = FluxPointsEstimator(EDGES, sqrt_ts_threshold_ul=1).run(data.dataset).table
    assert not np.any(table["is_ul"])


def test_background_only_bin_has_no_signal(asimov):
    data = asimov(source_cut=10)
    table = FluxPointsEstimator(EDGES).run(data.dataset).table
    row = table[2]
    assert abs(row["norm"]) < 1e-3 * row["norm_err"]
    assert row["ts"] < 1e-6 and abs(row["sqrt_ts"]) < 1e-3
    assert row["is_ul"]
    mask = data.bins(10, 100)
    assert_allclose(cash_stat(data, mask, row["norm_ul"]) - cash_stat(data, mask, 0), 4, atol=1e-5)
    assert row["norm_ul"] > 0
    assert_allclose(table["norm"][:2], 1, atol=1e-3)


def test_stat_scan_matches_the_dataset_statistic(asimov):
    data = asimov(exposure=3e12)
    norms = [0.5, 1.0, 2.0]
    table = FluxPointsEstimator(EDGES, norm_values=norms).run(data.dataset).table
    amplitude = data.model.spectral_model.amplitude
    for row in table:
        assert_allclose(row["norm_scan"], norms)
        data.dataset.mask_fit = data.bins(row["e_min"], row["e_max"])
        expected = []
        for norm in norms:
            amplitude.value = norm * data.amplitude
            expected.append(data.dataset.stat_sum())
        amplitude.value = data.amplitude
        assert_allclose(row["stat_scan"], expected, rtol=1e-10)


def test_onoff_asimov(asimov):
    data = asimov(alpha=0.25, background=40.0)
    norms = [0.6, 1.0, 1.5]
    table = FluxPointsEstimator(EDGES, norm_values=norms).run([data.dataset]).table
    assert_allclose(table["norm"], 1, atol=1e-3)
    assert_allclose(table["stat"], 0, atol=1e-6)  # WStat of a perfect prediction
    amplitude = data.model.spectral_model.amplitude
    for row in table:
        mask = data.bins(row["e_min"], row["e_max"])
        assert_allclose(row["npred"], data.counts[mask].sum(), rtol=1e-4)
        assert_allclose(row["npred_excess"], data.signal[mask].sum(), rtol=1e-3)
        data.dataset.mask_fit = mask
        expected = []
        for norm in norms:
            amplitude.value = norm * data.amplitude
            expected.append(data.dataset.stat_sum())
        amplitude.value = data.amplitude
        assert_allclose(row["stat_scan"], expected, rtol=1e-9, atol=1e-9)


def test_energy_edges_snap_to_the_safe_reco_bins(asimov):
    data = asimov()
    mask_safe = np.ones(24, dtype=bool)
    mask_safe[:2] = False
    data.dataset.mask_safe = mask_safe
    table = FluxPointsEstimator([0.13, 1.1, 9.0] * u.TeV).run(data.dataset).table
    edges = data.edges
    assert_allclose(table["e_min"], [edges[2], edges[8]])  # 0.13 -> edge 1, masked to edge 2
    assert_allclose(table["e_max"], [edges[8], edges[16]])  # 1.1 -> 1.0, 9.0 -> 10
    assert_allclose(table["e_ref"], np.sqrt(table["e_min"] * table["e_max"]))
    assert table["e_ref"].unit == u.TeV
    assert_allclose(table["counts"][0], data.counts[2:8].sum())


def test_joint_datasets_add_information(asimov):
    first = asimov(exposure=3e13, name="a")
    second = asimov(exposure=1e13, background=2.0, name="b")
    second.dataset.models = first.dataset.models
    table = FluxPointsEstimator(EDGES).run([first.dataset, second.dataset]).table
    assert_allclose(table["norm"], 1, atol=1e-3)
    for row in table:
        mask = first.bins(row["e_min"], row["e_max"])
        fisher = sum(np.sum(d.signal[mask] ** 2 / d.counts[mask]) for d in (first, second))
        assert_allclose(row["norm_err"], 1 / np.sqrt(fisher), rtol=1e-3)
        assert_allclose(row["counts"], first.counts[mask].sum() + second.counts[mask].sum())


def test_other_components_stay_fixed(asimov):
    data = asimov()
    other = SkyModel(PowerLawSpectralModel(index=2.0, amplitude=3e-12, reference=1.0), name="b")
    other_signal = other.spectral_model.integral_values(data.edges[:-1], data.edges[1:])
    other_signal = other_signal * data.exposure
    data.counts = data.counts + other_signal
    data.dataset.counts = data.counts
    data.dataset.models = Models([data.model, other])
    table = FluxPointsEstimator(EDGES, source="b").run(data.dataset).table
    assert_allclose(table["norm"], 1, atol=1e-3)
    for row in table:
        mask = data.bins(row["e_min"], row["e_max"])
        fisher = np.sum(other_signal[mask] ** 2 / data.counts[mask])
        assert_allclose(row["norm_err"], 1 / np.sqrt(fisher), rtol=1e-3)
        assert_allclose(row["npred_excess"], other_signal[mask].sum(), rtol=1e-3)
        expected = 3e-12 * row["e_ref"] ** -2.0
        assert_allclose(row["ref_dnde"], expected, rtol=1e-10)


def test_reference_fluxes_of_the_power_law(asimov):
    data = asimov()
    points = FluxPointsEstimator(EDGES).run(data.dataset)
    table = points.table
    e_ref, e_min, e_max = (table[name].data for name in ("e_ref", "e_min", "e_max"))
    assert_allclose(e_ref, np.sqrt(e_min * e_max))
    assert_allclose(table["ref_dnde"], 1e-11 * e_ref**-2.5, rtol=1e-10)
    assert_allclose(table["ref_e2dnde"], 1e-11 * e_ref**-0.5, rtol=1e-10)
    flux = 1e-11 * (e_max**-1.5 - e_min**-1.5) / -1.5
    assert_allclose(table["ref_flux"], flux, rtol=1e-8)
    assert_allclose(table["ref_eflux"], 1e-11 * (e_max**-0.5 - e_min**-0.5) / -0.5, rtol=1e-8)
    assert table["ref_dnde"].unit == u.Unit("cm-2 s-1 TeV-1")
    dnde = points.to_table("dnde")
    assert_allclose(dnde["dnde_ul"], table["norm_ul"] * table["ref_dnde"], rtol=1e-12)


def test_bins_without_data_are_nan(asimov):
    data = asimov()
    mask_safe = data.edges[1:] <= 10
    data.dataset.mask_safe = mask_safe
    table = FluxPointsEstimator(EDGES).run(data.dataset).table
    row = table[2]
    assert np.isnan(row["norm"]) and np.isnan(row["norm_ul"]) and np.isnan(row["ts"])
    assert not row["success"] and row["counts"] == 0 and not row["is_ul"]
    assert_allclose([row["e_min"], row["e_max"]], [10, 100])
    assert np.all(np.isnan(row["stat_scan"]))
    assert np.all(table["success"][:2])


def test_selection_optional(asimov):
    data = asimov()
    data.dataset.mask_safe = data.edges[:-1] >= 1  # first point without data
    table = FluxPointsEstimator(EDGES, selection_optional=None).run(data.dataset).table
    for name in ("norm_errn", "norm_errp", "norm_ul", "is_ul", "norm_scan", "stat_scan"):
        assert name not in table.colnames
    assert np.isnan(table["norm"][0]) and np.all(np.isfinite(table["norm_err"][1:]))
    table = FluxPointsEstimator(EDGES, selection_optional="ul").run(data.dataset).table
    assert "norm_ul" in table.colnames and "norm_errp" not in table.colnames
    table = FluxPointsEstimator(EDGES, selection_optional="all").run(data.dataset).table
    assert table["stat_scan"].shape == (3, 11)
    assert_allclose(table["norm_scan"][0], np.geomspace(0.2, 5, 11))


def test_bad_configuration(asimov):
    with pytest.raises(ConfigError, match="energy_edges"):
        FluxPointsEstimator([1, 0.5] * u.TeV)
    with pytest.raises(ConfigError, match="energy_edges"):
        FluxPointsEstimator([1] * u.TeV)
    with pytest.raises(ConfigError, match="selection_optional: unknown steps \\['sensitivity'\\]"):
        FluxPointsEstimator(EDGES, selection_optional=("errn-errp", "sensitivity"))
    with pytest.raises(ConfigError, match="n_sigma and n_sigma_ul must be positive"):
        FluxPointsEstimator(EDGES, n_sigma_ul=0)
    data = asimov()
    with pytest.raises(GammarulesError, match="no model named 'crab'"):
        FluxPointsEstimator(EDGES, source="crab").run(data.dataset)
    with pytest.raises(GammarulesError, match="out of range"):
        FluxPointsEstimator(EDGES, source=3).run(data.dataset)
    data.dataset.models = None
    with pytest.raises(GammarulesError, match="no models"):
        FluxPointsEstimator(EDGES).run(data.dataset)
    with pytest.raises(GammarulesError, match="no datasets"):
        FluxPointsEstimator(EDGES).run([])
