"""Safe energy ranges: each method on synthetic spectrum datasets with known answers."""

from types import SimpleNamespace

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammarules.datasets import SpectrumDataset
from gammarules.errors import ConfigError
from gammarules.irf import EffectiveAreaTable2D
from gammarules.makers.safe_mask import SafeMaskMaker, energy_mask
from gammarules.maps import MapAxis

POINTING = SkyCoord(83.633, 22.514, unit="deg")
LIVETIME = 1000.0  # s
PER_DECADE = 10
RATIO = 10 ** (1 / PER_DECADE)  # ratio of neighbouring bin centres


def axes(same_edges=False):
    reco = MapAxis.from_energy_bounds(0.1, 100, 3 * PER_DECADE, name="energy")
    if same_edges:
        return reco, reco.rename("energy_true")
    return reco, MapAxis.from_energy_bounds(0.05, 200, 48, name="energy_true")


def empty_dataset(offset_deg=0.5, same_edges=False):
    reco, true = axes(same_edges)
    center = POINTING.directional_offset_by(0 * u.deg, offset_deg * u.deg)
    region = CircleSkyRegion(center, 0.11 * u.deg)
    return SpectrumDataset.create(reco, true, region=region, name="synthetic")


def lower_edge_mask(axis, energy_tev):
    """Bins whose lower edge is at or above ``energy_tev`` (computed without the library)."""
    return axis.edges_in("TeV")[:-1] >= energy_tev


def test_energy_mask_keeps_bins_fully_inside():
    axis = MapAxis([1, 2, 4, 8], unit="TeV")
    cases = [
        ((2 * u.TeV, 8 * u.TeV), [False, True, True]),
        ((1.5 * u.TeV, 7 * u.TeV), [False, True, False]),
        ((None, 4 * u.TeV), [True, True, False]),
        ((2000 * u.GeV, None), [False, True, True]),
        ((None, None), [True, True, True]),
        ((2 * (1 + 1e-12) * u.TeV, None), [False, True, True]),  # rounding at an edge
        ((5 * u.TeV, 6 * u.TeV), [False, False, False]),
    ]
    for (emin, emax), expected in cases:
        np.testing.assert_array_equal(energy_mask(axis, emin, emax), expected)


@pytest.mark.parametrize("threshold_tev", [0.999, 1.001, 2.5, 0.42])
def test_aeff_max_power_law_crossing(threshold_tev):
    # area rises as E^2 up to E0 = 3 TeV and is flat above: a straight line in log-log below E0,
    # so the log-log interpolation crosses aeff_percent of the maximum exactly at
    # E0 * sqrt(aeff_percent / 100)
    e0, area_max = 3.0, 1e9
    percent = 100 * (threshold_tev / e0) ** 2
    dataset = empty_dataset()
    energy = dataset.energy_axis_true.center_in("TeV")
    area = area_max * np.minimum(energy / e0, 1) ** 2
    dataset = dataset.copy(exposure=area * LIVETIME * u.Unit("cm2 s"), livetime=LIVETIME * u.s)

    result = SafeMaskMaker(methods=["aeff-max"], aeff_percent=percent).run(dataset)
    expected = lower_edge_mask(dataset.energy_axis, threshold_tev)
    np.testing.assert_array_equal(result.mask_safe, expected)
    assert 0 < expected.sum() < expected.size
    # the input dataset is left unchanged
    assert dataset.mask_safe.all()


def test_aeff_max_rising_from_zero_takes_the_first_positive_node():
    dataset = empty_dataset()
    energy = dataset.energy_axis_true.center_in("TeV")
    area = np.where(energy > 1.5, 5e8, 0.0)
    dataset = dataset.copy(exposure=area * LIVETIME, livetime=LIVETIME)
    result = SafeMaskMaker(methods=["aeff-max"], aeff_percent=10).run(dataset)
    first_positive = energy[energy > 1.5][0]
    np.testing.assert_array_equal(
        result.mask_safe, lower_edge_mask(dataset.energy_axis, first_positive)
    )


def test_aeff_max_without_exposure_is_all_unsafe():
    result = SafeMaskMaker(methods=["aeff-max"]).run(empty_dataset())
    assert not result.mask_safe.any()


def aeff_observation(lo=None, hi=None, offset_deg=0.5):
    """An observation carrying a real effective-area IRF with threshold keywords."""
    meta = {k: v for k, v in (("LO_THRES", lo), ("HI_THRES", hi)) if v is not None}
    true = MapAxis.from_energy_bounds(0.01, 300, 20, name="energy_true")
    offset = MapAxis([0, 1, 2, 3], name="offset", unit="deg", interp="lin")
    aeff = EffectiveAreaTable2D([true, offset], np.ones((20, 3)), unit="m2", meta=meta)
    return SimpleNamespace(aeff=aeff, pointing_radec=POINTING, obs_id=1)


def test_aeff_default_uses_the_threshold_keywords():
    dataset = empty_dataset()
    edges = dataset.energy_axis.edges_in("TeV")
    observation = aeff_observation(lo=0.5, hi=20.0)
    result = SafeMaskMaker(methods=["aeff-default"]).run(dataset, observation)
    np.testing.assert_array_equal(result.mask_safe, (edges[:-1] >= 0.5) & (edges[1:] <= 20.0))
    assert result.mask_safe.sum() == 16  # 10**(-0.3) = 0.501 TeV to 10**1.3 = 19.95 TeV

    only_low = SafeMaskMaker(methods=["aeff-default"]).run(dataset, aeff_observation(lo=0.5))
    np.testing.assert_array_equal(only_low.mask_safe, edges[:-1] >= 0.5)
    neither = SafeMaskMaker(methods=["aeff-default"]).run(dataset, aeff_observation())
    assert neither.mask_safe.all()


def test_methods_needing_the_observation_say_so():
    for method in ("aeff-default", "offset-max"):
        with pytest.raises(ConfigError, match=f"'{method}' needs the observation"):
            SafeMaskMaker(methods=[method]).run(empty_dataset())


def shifted_kernel(n, shift, probability):
    """Row i sends ``probability[i]`` to reco bin i + shift and the rest to bin i.

    Rows whose shifted bin is off the axis are left empty.
    """
    kernel = np.zeros((n, n))
    for i in range(max(0, -shift), min(n, n - shift)):
        kernel[i, i + shift] += probability[i]
        kernel[i, i] += 1 - probability[i]
    return kernel


@pytest.mark.parametrize(("shift", "bin_bias"), [(1, RATIO - 1), (-1, 1 / RATIO - 1)])
def test_edisp_bias_crossing_between_nodes(shift, bin_bias):
    # bias of row i: p_i * (ratio of bin centres - 1); with p_i = 1 - i / 10 the bias is linear
    # in the bin index, i.e. linear in log(E_true), so the interpolated crossing is exact
    dataset = empty_dataset(same_edges=True)
    n = dataset.energy_axis.nbin
    probability = np.clip(1 - np.arange(n) / 10, 0, 1)
    dataset = dataset.copy(edisp=shifted_kernel(n, shift, probability))
    index = 10 * (1 - 0.1 / abs(bin_bias))  # where |bias| = 10 %
    energy_min = dataset.energy_axis_true.center_in("TeV")[0] * RATIO**index
    result = SafeMaskMaker(methods=["edisp-bias"], bias_percent=10).run(dataset)
    np.testing.assert_array_equal(
        result.mask_safe, lower_edge_mask(dataset.energy_axis, energy_min)
    )
    assert 0 < result.mask_safe.sum() < n


def test_edisp_bias_ignores_empty_rows_and_never_reached_is_unsafe():
    dataset = empty_dataset(same_edges=True)
    n = dataset.energy_axis.nbin
    kernel = shifted_kernel(n, 1, np.ones(n))
    kernel[-1] = 0  # the only row without bias has no probability: it does not count
    result = SafeMaskMaker(methods=["edisp-bias"]).run(dataset.copy(edisp=kernel))
    assert not result.mask_safe.any()

    unbiased = np.eye(n) * 0.7  # rows need not be normalised
    unbiased[:3] = 0
    result = SafeMaskMaker(methods=["edisp-bias"]).run(dataset.copy(edisp=unbiased))
    energy_min = dataset.energy_axis_true.center_in("TeV")[3]
    np.testing.assert_array_equal(
        result.mask_safe, lower_edge_mask(dataset.energy_axis, energy_min)
    )


@pytest.mark.parametrize(("offset_max", "safe"), [("2.5 deg", True), (1.9 * u.deg, False)])
def test_offset_max(offset_max, safe):
    dataset = empty_dataset(offset_deg=2.0)
    observation = SimpleNamespace(pointing_radec=POINTING, obs_id=1)
    result = SafeMaskMaker(methods=["offset-max"], offset_max=offset_max).run(dataset, observation)
    assert result.mask_safe.shape == (dataset.energy_axis.nbin,)
    assert (result.mask_safe == safe).all()


def test_bkg_peak():
    dataset = empty_dataset()
    n = dataset.energy_axis.nbin
    background = np.exp(-0.5 * ((np.arange(n) - 7.2) / 3) ** 2)
    result = SafeMaskMaker(methods=["bkg-peak"]).run(dataset.copy(background=background))
    np.testing.assert_array_equal(result.mask_safe, np.arange(n) >= 7)
    no_background = SafeMaskMaker(methods=["bkg-peak"]).run(dataset)
    assert no_background.mask_safe.all()


def test_methods_are_combined_with_and():
    dataset = empty_dataset(offset_deg=0.5)
    background = np.zeros(dataset.energy_axis.nbin)
    background[4] = 1.0
    dataset = dataset.copy(background=background)
    observation = aeff_observation(hi=10.0)
    edges = dataset.energy_axis.edges_in("TeV")
    result = SafeMaskMaker(methods=["bkg-peak", "aeff-default", "offset-max"]).run(
        dataset, observation
    )
    np.testing.assert_array_equal(
        result.mask_safe, (np.arange(edges.size - 1) >= 4) & (edges[1:] <= 10)
    )
    far = SafeMaskMaker(methods=["bkg-peak", "offset-max"], offset_max="0.4 deg")
    assert not far.run(dataset, observation).mask_safe.any()


def test_unknown_method_is_a_config_error():
    with pytest.raises(ConfigError, match=r"unknown method\(s\) \['aeff-min'\]"):
        SafeMaskMaker(methods=["aeff-max", "aeff-min"])
