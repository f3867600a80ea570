"""Fits of power laws to Asimov and Poisson spectra against the truth and Fisher matrices."""

import json

import numpy as np
import pytest
from astropy import units as u
from numpy.testing import assert_allclose

from gammarules.errors import FitError
from gammarules.fit import Fit, FitResult
from gammarules.models import Models
from gammarules.stats import cash

TRUE_INDEX, TRUE_AMPLITUDE = 2.5, 1e-11  # the truth of the conftest Asimov spectra

# The default tolerance (0.1, as Gammapy) stops MIGRAD once the estimated distance to the
# minimum is below 2e-4 in statistic, i.e. within ~0.02 sigma of it; comparisons with the
# truth at 1e-4 relative precision use a tighter tolerance.
PRECISE = {"tol": 1e-3}


def spectral(models):
    return models[0].spectral_model


def test_fit_recovers_asimov_truth(asimov, models):
    assert (asimov.TRUE_INDEX, asimov.TRUE_AMPLITUDE) == (TRUE_INDEX, TRUE_AMPLITUDE)
    data = asimov()
    data.dataset.models = models
    result = Fit(**PRECISE).run([data.dataset])
    assert isinstance(result, FitResult)
    assert result.success and result.converged
    assert result.message == "Optimization terminated successfully."
    assert_allclose(spectral(models).index.value, TRUE_INDEX, rtol=1e-4)
    assert_allclose(spectral(models).amplitude.value, TRUE_AMPLITUDE, rtol=1e-4)
    expected_stat = cash(data.counts, data.counts).sum()
    assert_allclose(result.total_stat, expected_stat, rtol=1e-9)
    assert result.nfev > 10
    assert result.free_parameters == ["source.spectral.index", "source.spectral.amplitude"]
    table = result.parameters
    assert list(table["name"]) == ["index", "amplitude", "reference"]
    assert list(table["frozen"]) == [False, False, True]
    assert u.Unit(table["unit"][1]) == u.Unit("cm-2 s-1 TeV-1")
    assert_allclose(table["value"][:2], [TRUE_INDEX, TRUE_AMPLITUDE], rtol=1e-4)


def test_default_tolerance_reaches_the_minimum(asimov, models):
    data = asimov()
    data.dataset.models = models
    result = Fit().run([data.dataset])
    assert result.success
    sigma = np.sqrt(np.diag(np.linalg.inv(data.fisher())))
    fitted = [spectral(models).index.value, spectral(models).amplitude.value]
    assert np.all(np.abs(np.array(fitted) - [TRUE_INDEX, TRUE_AMPLITUDE]) < 0.05 * sigma)
    assert_allclose(result.covariance, np.linalg.inv(data.fisher()), rtol=0.01)


def test_covariance_is_inverse_fisher(asimov, models):
    data = asimov()
    data.dataset.models = models
    result = Fit(**PRECISE).run(data.dataset)
    expected = np.linalg.inv(data.fisher())
    assert_allclose(result.covariance, expected, rtol=2e-3)
    sigma = np.sqrt(np.diag(expected))
    assert_allclose(result.correlation, expected / np.outer(sigma, sigma), rtol=2e-3, atol=1e-6)
    assert_allclose(spectral(models).index.error, sigma[0], rtol=2e-3)
    assert_allclose(spectral(models).amplitude.error, sigma[1], rtol=2e-3)
    # the models carry the covariance, zero for the frozen reference energy
    assert_allclose(models.covariance[:2, :2], result.covariance, rtol=1e-12)
    assert_allclose(models[0].covariance[:2, :2], result.covariance, rtol=1e-12)
    assert np.all(models.covariance[2] == 0)


def test_joint_fit_shares_parameters(asimov, models):
    first, second = asimov(exposure=3e13, name="a"), asimov(exposure=1e13, background=2.0, name="b")
    first.dataset.models = models
    second.dataset.models = models
    result = Fit(**PRECISE).run([first.dataset, second.dataset])
    assert len(result.free_parameters) == 2
    assert_allclose(spectral(models).index.value, TRUE_INDEX, rtol=1e-4)
    expected = np.linalg.inv(first.fisher() + second.fisher())
    assert_allclose(result.covariance, expected, rtol=2e-3)
    single = first.dataset.stat_sum() + second.dataset.stat_sum()
    assert_allclose(result.total_stat, single, rtol=1e-12)


def test_onoff_fit_matches_profiled_fisher(asimov_onoff, models):
    dataset, fisher = asimov_onoff
    dataset.models = models
    result = Fit(**PRECISE).run([dataset])
    assert result.success
    assert_allclose(spectral(models).index.value, TRUE_INDEX, rtol=1e-4)
    assert_allclose(spectral(models).amplitude.value, TRUE_AMPLITUDE, rtol=1e-4)
    assert_allclose(result.total_stat, 0, atol=1e-6)  # WStat is zero for a perfect fit
    assert_allclose(result.covariance, np.linalg.inv(fisher), rtol=3e-3)


def test_frozen_parameter_is_not_fitted(asimov, models):
    data = asimov()
    data.dataset.models = models
    spectral(models).index.value = 2.4
    spectral(models).index.frozen = True
    result = Fit().run([data.dataset])
    assert result.free_parameters == ["source.spectral.amplitude"]
    assert spectral(models).index.value == 2.4
    assert result.covariance.shape == (1, 1)
    assert models.covariance[0, 0] == 0


def test_parameter_bounds_are_respected(asimov, models):
    data = asimov()
    data.dataset.models = models
    spectral(models).index.max = 2.3
    result = Fit().run([data.dataset])
    assert spectral(models).index.value <= 2.3
    assert_allclose(spectral(models).index.value, 2.3, rtol=1e-3)
    assert "parameters at limit" in result.message


def test_call_limit_is_reported(asimov, models):
    data = asimov()
    data.dataset.models = models
    result = Fit(optimize_opts={"ncall": 5, "iterate": 1}, covariance=False).run(data.dataset)
    assert not result.success
    assert result.message.startswith("Optimization failed.")
    assert "call limit reached" in result.message
    assert result.covariance is None and result.correlation is None
    assert result.to_dict()["covariance"] is None


def test_fit_is_deterministic(asimov, make_model):
    results = []
    for _ in range(2):
        data = asimov()
        data.dataset.models = Models([make_model()])
        results.append(Fit().run([data.dataset]).to_dict())
    assert results[0] == results[1]


def test_errors_on_bad_input(asimov, models):
    data = asimov()
    data.dataset.models = models
    for parameter in models.parameters:
        parameter.frozen = True
    with pytest.raises(FitError, match="no free parameter"):
        Fit().run([data.dataset])
    with pytest.raises(FitError, match="no datasets"):
        Fit().run([])
    spectral(models).index.frozen = False
    spectral(models).amplitude.value = np.nan
    with pytest.raises(FitError, match="fit statistic is nan"):
        Fit().run([data.dataset])


def test_result_to_dict_and_write(asimov, models, tmp_path):
    data = asimov()
    data.dataset.models = models
    result = Fit().run([data.dataset])
    path = tmp_path / "fit.json"
    result.write(path)
    loaded = json.loads(path.read_text())
    assert loaded == json.loads(json.dumps(result.to_dict()))
    assert loaded["converged"] is True
    assert loaded["nfev"] == result.nfev
    assert_allclose(loaded["stat"], result.total_stat, rtol=1e-15)
    index = loaded["parameters"][0]
    assert index["name"] == "index" and index["min"] is None and index["frozen"] is False
    assert_allclose(index["value"], spectral(models).index.value, rtol=1e-15)
    assert_allclose(loaded["covariance"], result.covariance, rtol=1e-15)
    assert_allclose(np.diag(loaded["correlation"]), 1, rtol=1e-12)


def test_minos_is_where_the_profile_rises_by_one(asimov, models):
    data = asimov(exposure=3e11, background=1.0)  # low counts: asymmetric interval
    data.dataset.models = models
    fit = Fit()
    fit.run([data.dataset])
    best_stat = data.dataset.stat_sum()
    minos = fit.minos([data.dataset], "index")
    assert minos["success"]
    value, errn, errp = (minos[key].value for key in ("value", "errn", "errp"))
    assert errp > errn > 0
    assert_allclose(spectral(models).index.value, value, rtol=1e-6)
    profile = fit.stat_profile(
        [data.dataset], "index", [value - errn, value + errp], reoptimize=True
    )
    assert_allclose(profile["stat_scan"] - best_stat, 1, atol=0.02)
    assert_allclose(spectral(models).index.value, value, rtol=1e-12)  # restored
    half = fit.minos([data.dataset], "index", sigma=0.5)
    profile = fit.stat_profile([data.dataset], "index", [value + half["errp"].value], True)
    assert_allclose(profile["stat_scan"] - best_stat, 0.25, atol=0.01)


def test_stat_profile_without_reoptimisation(asimov, models):
    data = asimov()
    data.dataset.models = models
    index = spectral(models).index
    index.frozen = True
    values = [2.3, 2.5, 2.7]
    profile = Fit().stat_profile(data.dataset, "source.spectral.index", values)
    expected = []
    for value in values:
        signal = data.signal((value, spectral(models).amplitude.value))
        expected.append(cash(data.counts, signal + data.background).sum())
    assert_allclose(profile["stat_scan"], expected, rtol=1e-10)
    assert list(profile["values"].value) == values
    assert index.value == 2.0 and index.frozen


def test_stat_contour_extremes_are_minos_errors(asimov, models):
    data = asimov(exposure=3e12)
    data.dataset.models = models
    fit = Fit()
    minos = fit.minos(data.dataset, "index")
    contour = fit.stat_contour(data.dataset, "index", "amplitude", numpoints=12)
    x = contour["x"].value
    assert_allclose(x.max() - minos["value"].value, minos["errp"].value, rtol=0.02)
    assert_allclose(minos["value"].value - x.min(), minos["errn"].value, rtol=0.02)
    assert contour["y"].unit == "cm-2 s-1 TeV-1"


def test_ambiguous_or_unknown_parameter(asimov, make_model):
    data = asimov()
    data.dataset.models = Models([make_model(name="a"), make_model(name="b")])
    with pytest.raises(FitError, match="ambiguous"):
        Fit().minos(data.dataset, "index")
    with pytest.raises(FitError, match="'lambda_' is not a parameter of the models"):
        Fit().minos(data.dataset, "lambda_")
    with pytest.raises(FitError, match="'reference' is not a free parameter"):
        Fit().minos(data.dataset, "a.spectral.reference")
    with pytest.raises(FitError, match="'lambda_' is not a parameter of the models"):
        Fit().stat_profile(data.dataset, "lambda_", [1.0])


def test_index_pulls_are_unbiased(asimov, make_model):
    """200 Poisson realisations: the pulls of the index have mean 0 and width 1."""
    data = asimov(exposure=3e12, background=2.0)
    rng = np.random.default_rng(20240601)
    models = Models([make_model(index=TRUE_INDEX, amplitude=TRUE_AMPLITUDE)])
    data.dataset.models = models
    fit, pulls = Fit(), []
    for _ in range(200):
        data.dataset.counts = rng.poisson(data.counts).astype(float)
        index = spectral(models).index
        index.value, index.error = TRUE_INDEX, 0.0
        spectral(models).amplitude.value = TRUE_AMPLITUDE
        spectral(models).amplitude.error = 0.0
        result = fit.run([data.dataset])
        assert result.success
        pulls.append((index.value - TRUE_INDEX) / index.error)
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 3 / np.sqrt(pulls.size)
    assert 0.85 < pulls.std(ddof=1) < 1.15
