"""ReflectedRegionsBackgroundMaker: OFF counts in reflected/wobble regions and alpha."""

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from fake_observation import (
    ON_RADIUS_DEG,
    POINTING,
    energy_axes,
    event_list,
    histogram,
    observation,
    on_region,
)
from regions import CircleSkyRegion, Regions

from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.makers.background import ReflectedRegionsBackgroundMaker
from gammarules.makers.reflected import WobbleRegionsFinder
from gammarules.makers.spectrum import SpectrumDatasetMaker
from gammarules.maps import Map, WcsGeom

MDI_DEG = math.degrees(0.1)


def ring_events(seed=3, n=20000):
    """Events uniform on the sky between 0.3 and 0.9 deg from the pointing."""
    rng = np.random.default_rng(seed)
    cos_lo, cos_hi = np.cos(np.radians(0.9)), np.cos(np.radians(0.3))
    distance = np.degrees(np.arccos(rng.uniform(cos_lo, cos_hi, n)))
    coords = POINTING.directional_offset_by(rng.uniform(0, 360, n) * u.deg, distance * u.deg)
    energy = 10 ** rng.uniform(np.log10(0.05), np.log10(200), n)
    return coords, energy


def reflected_centers(region):
    """OFF centres for the default finder (circles at the ON offset, default spacing)."""
    offset = POINTING.separation(region.center).deg
    r, d = math.radians(region.radius.to_value("deg")), math.radians(offset)
    step = 2 * math.degrees(math.asin(math.sin(r) / math.sin(d)))
    count = math.ceil((360 - 2 * (step + MDI_DEG)) / step)
    on_pa = POINTING.position_angle(region.center).deg
    angles = on_pa + step + MDI_DEG + step * np.arange(count)
    return POINTING.directional_offset_by(angles * u.deg, offset * u.deg)


def reduced_dataset(obs, region=None):
    reco, true = energy_axes()
    empty = SpectrumDataset.create(reco, true, region=region or on_region(), name="obs")
    dataset = SpectrumDatasetMaker().run(empty, obs)
    mask = np.ones(reco.nbin, dtype=bool)
    mask[:2] = False
    dataset.mask_safe = mask
    return dataset


def off_counts(radec, energy, centers, radius_deg, axis):
    separation = radec[:, None].separation(centers[None, :]).deg
    return histogram(energy[(separation < radius_deg).any(axis=1)], axis)


def test_reflected_off_counts_and_alpha():
    radec, energy = ring_events()
    obs = observation(event_list(radec, energy))
    dataset = reduced_dataset(obs)
    result = ReflectedRegionsBackgroundMaker().run(dataset, obs)

    centers = reflected_centers(dataset.region)
    n_off = len(centers)
    assert n_off == 15
    assert isinstance(result, SpectrumDatasetOnOff)
    expected = off_counts(radec, energy, centers, ON_RADIUS_DEG, dataset.energy_axis)
    np.testing.assert_array_equal(result.counts_off, expected)
    assert expected.sum() > 300
    np.testing.assert_allclose(result.alpha, 1 / n_off, rtol=1e-15)
    np.testing.assert_array_equal(result.acceptance, 1.0)
    np.testing.assert_array_equal(result.acceptance_off, float(n_off))

    # ON products are carried over unchanged
    np.testing.assert_array_equal(result.counts, dataset.counts)
    np.testing.assert_array_equal(result.exposure, dataset.exposure)
    np.testing.assert_array_equal(result.edisp, dataset.edisp)
    np.testing.assert_array_equal(result.mask_safe, dataset.mask_safe)
    assert result.livetime == dataset.livetime and result.name == "obs"

    assert result.meta["n_off_regions"] == n_off
    regions = Regions.parse(result.meta["off_regions"], format="ds9")
    written = SkyCoord([r.center for r in regions])
    assert written.separation(centers).deg.max() < 1e-7


def test_wobble_alpha_and_counts():
    radec, energy = ring_events(seed=4)
    obs = observation(event_list(radec, energy))
    dataset = reduced_dataset(obs)
    maker = ReflectedRegionsBackgroundMaker(region_finder=WobbleRegionsFinder(n_off_regions=3))
    result = maker.run(dataset, obs)
    offset = POINTING.separation(dataset.region.center)
    on_pa = POINTING.position_angle(dataset.region.center).deg
    centers = POINTING.directional_offset_by((on_pa + np.array([90, 180, 270])) * u.deg, offset)
    expected = off_counts(radec, energy, centers, ON_RADIUS_DEG, dataset.energy_axis)
    np.testing.assert_array_equal(result.counts_off, expected)
    np.testing.assert_allclose(result.alpha, 1 / 3)
    # the OFF rate of a uniform sky is the ON rate: 3 regions hold about 3x the ON counts
    assert result.counts_off.sum() == pytest.approx(3 * result.counts.sum(), rel=0.25)


def test_exclusion_mask_reduces_the_regions():
    radec, energy = ring_events(seed=5)
    obs = observation(event_list(radec, energy))
    dataset = reduced_dataset(obs)
    centers = reflected_centers(dataset.region)
    geom = WcsGeom.create(POINTING, 0.01, width=2.0, proj="TAN")
    # a small disk on the 4th OFF region removes it, and shifts the ones after it
    excluded = CircleSkyRegion(centers[3], 0.02 * u.deg)
    mask = Map(geom, ~geom.region_mask([excluded]))
    maker = ReflectedRegionsBackgroundMaker(exclusion_mask=mask)
    regions = maker.off_regions(dataset, obs)
    result = maker.run(dataset, obs)
    assert 0 < len(regions) < len(centers)
    kept = SkyCoord([r.center for r in regions])
    assert kept.separation(excluded.center).deg.min() > ON_RADIUS_DEG + 0.02
    np.testing.assert_allclose(result.alpha, 1 / len(regions))
    expected = off_counts(radec, energy, kept, ON_RADIUS_DEG, dataset.energy_axis)
    np.testing.assert_array_equal(result.counts_off, expected)


def test_no_off_region_gives_an_empty_safe_mask():
    radec, energy = ring_events(seed=6, n=500)
    obs = observation(event_list(radec, energy))
    dataset = reduced_dataset(obs, region=CircleSkyRegion(POINTING, 0.3 * u.deg))
    result = ReflectedRegionsBackgroundMaker().run(dataset, obs)
    assert result.meta["n_off_regions"] == 0
    assert not result.counts_off.any()
    assert not result.alpha.any()
    assert not result.mask_safe.any()


def test_pointlike_off_counts_use_rad_max():
    region = on_region()
    centers = reflected_centers(region)
    # RAD_MAX is 0.1 deg below 1 TeV and 0.2 deg above; events around OFF region 2, placed
    # radially (away from the neighbouring OFF regions, which are 0.22 deg away sideways)
    separations = [0.05, 0.15, 0.15, 0.25]
    energies = [0.5, 0.5, 5.0, 5.0]
    outward = centers[2].position_angle(POINTING).deg + 180
    radec = SkyCoord(
        [
            centers[2].directional_offset_by((outward + 180 * k) * u.deg, s * u.deg)
            for k, s in enumerate(separations)
        ]
    )
    assert radec.separation(centers[1]).deg.min() > 0.2
    assert radec.separation(centers[3]).deg.min() > 0.2
    obs = observation(event_list(radec, energies), pointlike=True, psf=False)
    result = ReflectedRegionsBackgroundMaker().run(reduced_dataset(obs, region), obs)
    expected = histogram(np.array([0.5, 5.0]), result.energy_axis)
    np.testing.assert_array_equal(result.counts_off, expected)
