"""SpectrumDataset and SpectrumDatasetOnOff: predicted counts, likelihoods and summaries."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from scipy.integrate import quad
from scipy.optimize import brentq

from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.errors import DataFormatError
from gammarules.maps import MapAxis
from gammarules.models import Models, UnsupportedModel


def expected_npred_signal(dataset, dnde):
    """Exposure times the numerically integrated flux per true bin, folded with edisp."""
    edges = dataset.energy_axis_true.edges_in("TeV")
    flux = np.array(
        [quad(dnde, lo, hi, epsrel=1e-12)[0] for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    )
    return (dataset.exposure.to_value("cm2 s") * flux) @ dataset.edisp


def profiled_background(n_on, n_off, alpha, mu_sig):
    """OFF background maximising the ON/OFF Poisson likelihood, by root finding per bin."""
    result = []
    for on, off, a, s in zip(n_on, n_off, alpha, mu_sig, strict=True):

        def score(b, on=on, off=off, a=a, s=s):
            return on * a / (s + a * b) + off / b - (1 + a)

        result.append(brentq(score, 1e-12, 1e6, xtol=1e-14, rtol=1e-14))
    return np.array(result)


def test_npred_signal_matches_numerical_integration(make_cash, sky_model, power_law_dnde):
    dataset = make_cash()
    dataset.models = [sky_model()]
    expected = expected_npred_signal(dataset, power_law_dnde)
    assert np.all(expected > 0)
    np.testing.assert_allclose(dataset.npred_signal(), expected, rtol=1e-9)
    np.testing.assert_allclose(dataset.npred(), expected + dataset.background, rtol=1e-9)


def test_models_apply_by_datasets_names(make_cash, sky_model):
    dataset = make_cash(name="cash-1")
    mine = sky_model(amplitude=1e-11, datasets_names=["cash-1"], name="mine")
    other = sky_model(amplitude=5e-11, datasets_names=["cash-2"], name="other")
    everywhere = sky_model(amplitude=2e-11, name="everywhere")

    dataset.models = mine
    one = dataset.npred_signal()
    dataset.models = [mine, other]
    np.testing.assert_allclose(dataset.npred_signal(), one, rtol=1e-14)
    background = UnsupportedModel({"type": "FoVBackgroundModel", "datasets_names": ["cash-1"]})
    models = Models([mine, other, everywhere, background])
    dataset.models = models
    assert dataset.models is models
    np.testing.assert_allclose(dataset.npred_signal(), 3 * one, rtol=1e-12)
    everywhere.spectral_model.parameters["amplitude"].value = 4e-11
    np.testing.assert_allclose(dataset.npred_signal(), 5 * one, rtol=1e-12)
    dataset.models = None
    np.testing.assert_array_equal(dataset.npred_signal(), np.zeros(dataset.energy_axis.nbin))


def test_cash_statistic_over_safe_and_fit_mask(make_cash, sky_model):
    dataset = make_cash()
    dataset.models = [sky_model()]
    mu = dataset.npred()
    n = dataset.counts
    per_bin = 2 * (mu - n * np.log(mu))
    np.testing.assert_allclose(dataset.stat_array(), per_bin, rtol=1e-12)
    np.testing.assert_allclose(dataset.stat_sum(), per_bin[dataset.mask_safe].sum(), rtol=1e-12)

    fit = np.ones(dataset.energy_axis.nbin, dtype=bool)
    fit[3:5] = False
    dataset.mask_fit = fit
    assert dataset.mask.sum() == dataset.mask_safe.sum() - 2
    np.testing.assert_allclose(dataset.stat_sum(), per_bin[dataset.mask_safe & fit].sum())


def test_cash_info_dict(make_cash):
    dataset = make_cash()
    info = dataset.info_dict()
    safe = dataset.mask_safe
    n, b = dataset.counts[safe].sum(), dataset.background[safe].sum()
    assert info["counts"] == n == dataset.counts_total
    assert info["background"] == pytest.approx(b, rel=1e-14)
    assert info["excess"] == pytest.approx(n - b, rel=1e-14)
    ts = 2 * (n * np.log(n / b) - (n - b))
    assert info["sqrt_ts"] == pytest.approx(np.sqrt(ts), rel=1e-10)
    assert info["livetime_s"] == 1200.0
    assert info["counts_rate"] == pytest.approx(n / 1200.0)
    assert info["n_bins"] == 12 and info["n_fit_bins"] == safe.sum()
    assert info["npred_signal"] == 0.0
    assert info["stat_type"] == "cash"


def test_onoff_alpha_and_excess(make_onoff):
    dataset = make_onoff(n_off_regions=4)
    np.testing.assert_allclose(dataset.alpha[:-1], 0.25)
    assert dataset.alpha[-1] == pytest.approx(1 / 6)
    np.testing.assert_allclose(dataset.excess, dataset.counts - dataset.alpha * dataset.counts_off)


def test_onoff_profiled_background_and_wstat(make_onoff, sky_model):
    dataset = make_onoff()
    dataset.models = [sky_model(amplitude=1e-11)]
    n_on, n_off, alpha = dataset.counts, dataset.counts_off, dataset.alpha
    mu_sig = dataset.npred_signal()
    assert np.all(n_off > 0) and np.all(n_on > 0)

    mu_bkg = profiled_background(n_on, n_off, alpha, mu_sig)
    np.testing.assert_allclose(dataset.npred_background(), alpha * mu_bkg, rtol=1e-9)
    np.testing.assert_allclose(dataset.npred(), mu_sig + alpha * mu_bkg, rtol=1e-9)

    mu_on = mu_sig + alpha * mu_bkg
    per_bin = 2 * (
        mu_on + mu_bkg - n_on - n_off - n_on * np.log(mu_on / n_on) - n_off * np.log(mu_bkg / n_off)
    )
    np.testing.assert_allclose(dataset.stat_array(), per_bin, rtol=1e-8, atol=1e-10)
    safe = dataset.mask_safe
    np.testing.assert_allclose(dataset.stat_sum(), per_bin[safe].sum(), rtol=1e-8)


def test_onoff_info_dict_li_ma(make_onoff):
    dataset = make_onoff(n_off_regions=5)
    info = dataset.info_dict()
    safe = dataset.mask_safe
    n_on, n_off = dataset.counts[safe].sum(), dataset.counts_off[safe].sum()
    alpha = 1 / 5  # the bin with other acceptance_off is outside the safe range
    assert not safe[-1]
    assert info["counts"] == n_on and info["counts_off"] == n_off
    assert info["alpha"] == pytest.approx(alpha, rel=1e-14)
    assert info["background"] == pytest.approx(alpha * n_off, rel=1e-14)
    assert info["excess"] == pytest.approx(n_on - alpha * n_off, rel=1e-14)
    assert info["acceptance"] == safe.sum()
    assert info["acceptance_off"] == 5 * safe.sum()
    li_ma = np.sqrt(
        2
        * (
            n_on * np.log((1 + alpha) / alpha * n_on / (n_on + n_off))
            + n_off * np.log((1 + alpha) * n_off / (n_on + n_off))
        )
    )
    assert info["sqrt_ts"] == pytest.approx(np.sign(n_on - alpha * n_off) * li_ma, rel=1e-10)
    assert info["stat_type"] == "wstat"


def test_region_from_meta(make_onoff):
    region = CircleSkyRegion(SkyCoord(83.633, 22.014, unit="deg"), 0.11 * u.deg)
    dataset = make_onoff()
    dataset.meta["region"] = region.serialize(format="ds9")
    parsed = dataset.region
    assert parsed.center.ra.deg == pytest.approx(83.633)
    assert parsed.radius.to_value("deg") == pytest.approx(0.11)
    dataset.meta["region"] = region
    assert dataset.region is region


def test_quantities_are_converted(make_cash):
    reference = make_cash()
    dataset = SpectrumDataset(
        counts=reference.counts,
        exposure=reference.exposure.to(u.m**2 * u.h),
        edisp=reference.edisp,
        energy_axis=reference.energy_axis,
        energy_axis_true=reference.energy_axis_true,
        livetime=reference.livetime.to(u.min),
    )
    np.testing.assert_allclose(dataset.exposure.to_value("cm2 s"), reference.exposure.value)
    assert dataset.livetime.to_value("s") == pytest.approx(1200.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"counts": np.ones(5)}, "counts has shape (5,), expected (12,)"),
        ({"exposure": np.ones(12)}, "exposure has shape (12,), expected (18,)"),
        ({"exposure": np.ones(18) * u.cm**2}, "exposure must be in cm2 s"),
        ({"edisp": np.ones((12, 18))}, "edisp has shape (12, 18)"),
        ({"livetime": 3 * u.m}, "livetime must be in s"),
        ({"mask_safe": np.ones(3, dtype=bool)}, "mask_safe has shape (3,)"),
        ({"energy_axis": MapAxis([1, 2, 3], name="energy_true", unit="TeV")}, "named 'energy'"),
        ({"energy_axis": MapAxis([1, 2, 3], name="energy", unit="deg")}, "not energy"),
        ({"acceptance_off": -np.ones(12)}, "non-negative"),
    ],
)
def test_bad_input_names_the_problem(make_onoff, change, message):
    reference = make_onoff(name="bad")
    arguments = dict(
        counts=reference.counts,
        exposure=reference.exposure,
        edisp=reference.edisp,
        energy_axis=reference.energy_axis,
        energy_axis_true=reference.energy_axis_true,
        livetime=reference.livetime,
        counts_off=reference.counts_off,
        name="bad",
    )
    arguments.update(change)
    with pytest.raises(DataFormatError, match="dataset 'bad'") as error:
        SpectrumDatasetOnOff(**arguments)
    assert message in str(error.value)
