"""SpectrumDatasetMaker: ON counts, exposure and energy dispersion from a synthetic observation."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from fake_observation import (
    AEFF_SLOPE,
    LIVETIME_S,
    ON_OFFSET_DEG,
    ON_RADIUS_DEG,
    POINTING,
    GaussianPSF,
    area_at_nodes_m2,
    energy_axes,
    event_list,
    histogram,
    observation,
    on_region,
    random_events_around,
)

from gammarules.datasets import SpectrumDataset
from gammarules.errors import GammarulesError
from gammarules.makers.spectrum import SpectrumDatasetMaker, bin_energies
from gammarules.maps import MapAxis


def empty_dataset(region=None):
    reco, true = energy_axes()
    return SpectrumDataset.create(reco, true, region=region or on_region(), name="obs")


def events_near_on_region(seed=1):
    region = on_region()
    radec, energy = random_events_around([region.center], 3000, 0.4, seed)
    # events just inside and just outside the circle
    inside = region.center.directional_offset_by(77 * u.deg, 0.10999 * u.deg)
    outside = region.center.directional_offset_by(-77 * u.deg, 0.11001 * u.deg)
    radec = SkyCoord(
        np.append(radec.ra.deg, [inside.ra.deg, outside.ra.deg]),
        np.append(radec.dec.deg, [inside.dec.deg, outside.dec.deg]),
        unit="deg",
    )
    energy = np.append(energy, [2.0, 2.0])
    return radec, energy


def expected_area_cm2(dataset):
    """Area at the offset of the dataset's ON region: linear in offset, so exact."""
    # the dataset keeps its region as DS9 text, rounded to ~1e-8 deg
    offset = POINTING.separation(dataset.region.center).deg
    assert offset == pytest.approx(ON_OFFSET_DEG, abs=1e-7)
    energy = dataset.energy_axis_true.center_in("TeV")
    return area_at_nodes_m2(energy) * (1 - AEFF_SLOPE * offset) * 1e4


def test_counts_exposure_and_edisp():
    radec, energy = events_near_on_region()
    obs = observation(event_list(radec, energy))
    dataset = SpectrumDatasetMaker().run(empty_dataset(), obs)

    region = on_region()
    inside = radec.separation(dataset.region.center).deg < ON_RADIUS_DEG
    expected_counts = histogram(energy[inside], dataset.energy_axis)
    np.testing.assert_array_equal(dataset.counts, expected_counts)
    assert 50 < expected_counts.sum() < inside.sum()  # some ON events are outside the axis

    np.testing.assert_allclose(
        dataset.exposure.to_value("cm2 s"),
        expected_area_cm2(dataset) * LIVETIME_S,
        rtol=1e-10,
    )
    assert dataset.livetime.to_value("s") == LIVETIME_S

    offset = POINTING.separation(dataset.region.center)
    kernel = obs.edisp.to_kernel(offset, dataset.energy_axis_true, dataset.energy_axis)
    np.testing.assert_allclose(dataset.edisp, kernel, rtol=1e-9, atol=1e-15)
    assert dataset.edisp.shape == (18, 12)
    assert 0.9 < dataset.edisp[8].sum() <= 1 + 1e-9

    assert dataset.meta["obs_id"] == 4242
    assert dataset.meta["offset_deg"] == pytest.approx(offset.deg, abs=1e-12)
    assert dataset.meta["pointing"]["ra_deg"] == pytest.approx(POINTING.ra.deg)
    assert dataset.meta["containment_correction"] is False
    assert dataset.region.center.separation(region.center).deg < 1e-7  # DS9 text precision


def test_exposure_with_containment_correction():
    obs = observation(event_list(*events_near_on_region()))
    dataset = SpectrumDatasetMaker(containment_correction=True).run(empty_dataset(), obs)
    energy = dataset.energy_axis_true.center_in("TeV")
    sigma = GaussianPSF.sigma_deg(energy)
    containment = 1 - np.exp(-0.5 * (ON_RADIUS_DEG / sigma) ** 2)
    np.testing.assert_allclose(
        dataset.exposure.to_value("cm2 s"),
        expected_area_cm2(dataset) * LIVETIME_S * containment,
        rtol=1e-10,
    )
    assert containment.min() < 0.5 < containment.max()
    assert dataset.meta["containment_correction"] is True


def test_selection_keeps_other_products():
    radec, energy = events_near_on_region()
    obs = observation(event_list(radec, energy))
    dataset = SpectrumDatasetMaker(selection=["counts"]).run(empty_dataset(), obs)
    assert dataset.counts.sum() > 0
    assert not dataset.exposure.value.any() and not dataset.edisp.any()
    assert dataset.livetime.value == 0

    full = SpectrumDatasetMaker().run(empty_dataset(), obs)
    start = full.copy(exposure=np.zeros(18), livetime=0)
    exposure_only = SpectrumDatasetMaker(selection=["exposure"]).run(start, obs)
    np.testing.assert_allclose(exposure_only.exposure, full.exposure, rtol=1e-14)
    assert exposure_only.livetime == full.livetime
    np.testing.assert_array_equal(exposure_only.counts, full.counts)
    np.testing.assert_array_equal(exposure_only.edisp, full.edisp)


def test_pointlike_counts_use_rad_max_per_event():
    region = on_region()
    center = region.center
    # RAD_MAX is 0.1 deg below 1 TeV and 0.2 deg above (at this offset)
    separations = [0.05, 0.15, 0.15, 0.19, 0.21, 0.09, 0.101]
    energies = [0.5, 0.5, 5.0, 20.0, 20.0, 0.99, 0.99]
    radec = SkyCoord(
        [center.directional_offset_by(k * 50 * u.deg, s * u.deg) for k, s in enumerate(separations)]
    )
    obs = observation(event_list(radec, energies), pointlike=True, psf=False)
    # the containment correction does not apply to point-like IRFs
    dataset = SpectrumDatasetMaker(containment_correction=True).run(empty_dataset(), obs)
    # kept: 0.5 TeV at 0.05 deg, 5 TeV at 0.15 deg, 20 TeV at 0.19 deg, 0.99 TeV at 0.09 deg
    expected = histogram(np.array([0.5, 5.0, 20.0, 0.99]), dataset.energy_axis)
    assert expected.sum() == 4
    np.testing.assert_array_equal(dataset.counts, expected)
    np.testing.assert_allclose(
        dataset.exposure.to_value("cm2 s"),
        expected_area_cm2(dataset) * LIVETIME_S,
        rtol=1e-10,
    )


def test_errors_name_what_is_missing():
    events = event_list(*events_near_on_region())
    with pytest.raises(GammarulesError, match="observation 4242: point-like IRFs without RAD_MAX"):
        SpectrumDatasetMaker().run(
            empty_dataset(), observation(events, pointlike=True, rad_max=False)
        )
    with pytest.raises(
        GammarulesError, match="observation 4242: containment correction needs a PSF"
    ):
        SpectrumDatasetMaker(containment_correction=True).run(
            empty_dataset(), observation(events, psf=False)
        )
    reco, true = energy_axes()
    no_region = SpectrumDataset.create(reco, true, name="bare")
    with pytest.raises(GammarulesError, match="dataset 'bare' has no ON region"):
        SpectrumDatasetMaker().run(no_region, observation(events))
    with pytest.raises(GammarulesError, match=r"unknown selection \['background'\]"):
        SpectrumDatasetMaker(selection=["counts", "background"])


def test_bin_energies_right_open_and_outside():
    axis = MapAxis([1, 2, 4], unit="TeV")
    energy = u.Quantity([0.5, 1.0, 1.5, 2.0, 3.999, 4.0, 7.0, 3000], "GeV") * 1000
    np.testing.assert_array_equal(bin_energies(energy, axis), [2, 2])
    assert bin_energies(u.Quantity([], "TeV"), axis).tolist() == [0, 0]
