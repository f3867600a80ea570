"""MapDatasetOnOff: alpha, WStat against Li & Ma and a numerical profile, the profiled
background, NetCDF round trip, cutouts and stacking on synthetic maps."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from scipy.optimize import minimize_scalar

from gammarules.datasets import MapDataset, MapDatasetOnOff
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import Map, MapAxis, WcsGeom
from gammarules.models import PointSpatialModel, PowerLawSpectralModel, SkyModel

CENTER = SkyCoord(10.0, 0.0, unit="deg")
EXPOSURE = 1e11  # cm2 s


def base_dataset(nx=12, ny=10, n_energy=2, seed=1):
    reco = MapAxis.from_energy_bounds(1, 10, n_energy)
    geom = WcsGeom.create(CENTER, 0.1, npix=(nx, ny), axes=[reco])
    dataset = MapDataset.create(geom, reco.rename("energy_true"), name="obs", meta={"obs_id": 7})
    dataset.psf = dataset.edisp = None
    rng = np.random.default_rng(seed)
    dataset.counts.data = rng.poisson(5.0, geom.data_shape).astype(float)
    dataset.exposure.data[:] = EXPOSURE
    dataset.background.data[:] = 4.0
    dataset.mask_safe.data[:] = True
    dataset.livetime = 1000 * u.s
    return dataset


def onoff_dataset(seed=1, **kwargs):
    dataset = base_dataset(seed=seed, **kwargs)
    rng = np.random.default_rng(seed + 100)
    shape = dataset.geom.data_shape
    acceptance = rng.uniform(0.5, 2.0, shape)
    acceptance_off = rng.uniform(5.0, 20.0, shape)
    acceptance_off[:, 0, :3] = 0.0
    counts_off = rng.poisson(40.0, shape).astype(float)
    return MapDatasetOnOff.from_map_dataset(
        dataset,
        counts_off=Map(dataset.geom, counts_off),
        acceptance=Map(dataset.geom, acceptance),
        acceptance_off=Map(dataset.geom, acceptance_off),
    )


def li_ma(n_on, n_off, alpha):
    """Li & Ma (1983) eq. 17, written out for n_on, n_off > 0."""
    n = n_on + n_off
    with np.errstate(divide="ignore", invalid="ignore"):
        on = n_on * np.log((1 + alpha) / alpha * n_on / n)
        inner = on + n_off * np.log((1 + alpha) * n_off / n)
    return np.sqrt(2 * inner)


def test_from_map_dataset_takes_everything_but_background_and_models():
    dataset = base_dataset()
    dataset.models = [
        SkyModel(
            PowerLawSpectralModel(), PointSpatialModel(lon_0="10 deg", lat_0="0 deg"), name="s"
        )
    ]
    onoff = onoff_dataset()
    assert isinstance(onoff, MapDataset)
    assert onoff.models is None
    np.testing.assert_array_equal(onoff.counts.data, dataset.counts.data)
    assert onoff.name == "obs" and onoff.meta == {"obs_id": 7}
    assert onoff.livetime == 1000 * u.s
    assert onoff.mask_safe.data.all()
    mask = Map(dataset.geom, np.zeros(dataset.geom.data_shape, bool))
    other = MapDatasetOnOff.from_map_dataset(
        dataset, onoff.counts_off, onoff.acceptance, onoff.acceptance_off, mask_safe=mask
    )
    assert not other.mask_safe.data.any() and dataset.mask_safe.data.all()


def test_alpha_and_background():
    onoff = onoff_dataset()
    acc, acc_off = onoff.acceptance.data, onoff.acceptance_off.data
    alpha = onoff.alpha.data
    np.testing.assert_allclose(alpha[acc_off > 0], acc[acc_off > 0] / acc_off[acc_off > 0])
    assert np.all(alpha[:, 0, :3] == 0)
    np.testing.assert_allclose(onoff.background.data, alpha * onoff.counts_off.data)
    with pytest.raises(GammarulesError, match="alpha \\* counts_off"):
        onoff.background = onoff.counts


def test_wstat_without_signal_is_li_ma_squared():
    onoff = onoff_dataset()
    n_on, n_off, alpha = onoff.counts.data, onoff.counts_off.data, onoff.alpha.data
    use = (alpha > 0) & (n_on > 0) & (n_off > 0)
    stat = onoff.stat_array()
    np.testing.assert_allclose(stat[use], li_ma(n_on, n_off, alpha)[use] ** 2, rtol=1e-9)
    onoff.mask_safe.data[:, 0, :3] = False
    assert onoff.stat_sum() == pytest.approx(stat[onoff.mask].sum(), rel=1e-10)
    # without signal the profiled background is (n_on + n_off) alpha / (1 + alpha)
    expected = np.where(alpha > 0, (n_on + n_off) * alpha / (1 + alpha), 0)
    np.testing.assert_allclose(onoff.npred_background().data, expected, rtol=1e-12)


def test_profiled_background_maximises_the_likelihood_with_a_source():
    onoff = onoff_dataset()
    pixel = (3, 5)
    position = onoff.geom.to_image().pix_to_coord(*pixel)
    spectral = PowerLawSpectralModel(index=2.0, amplitude="1e-10 TeV-1 cm-2 s-1")
    onoff.models = [
        SkyModel(spectral, PointSpatialModel(lon_0=position.ra, lat_0=position.dec), name="s")
    ]
    signal = onoff.npred_signal().data
    edges = onoff.energy_axis.edges_in("TeV")
    flux = 1e-10 * (1 / edges[:-1] - 1 / edges[1:])  # integral of the power law, index 2
    np.testing.assert_allclose(signal[:, pixel[1], pixel[0]], flux * EXPOSURE, rtol=1e-6)
    background = onoff.npred_background().data
    np.testing.assert_allclose(onoff.npred().data, signal + background, rtol=1e-12)
    for energy in range(2):
        idx = (energy, pixel[1], pixel[0])
        n_on, n_off = onoff.counts.data[idx], onoff.counts_off.data[idx]
        alpha, mu_sig = onoff.alpha.data[idx], signal[idx]

        def minus_log_l(b, n_on=n_on, n_off=n_off, alpha=alpha, mu_sig=mu_sig):
            mu_on = mu_sig + alpha * b
            return mu_on - n_on * np.log(mu_on) + b - n_off * np.log(b)

        best = minimize_scalar(minus_log_l, bounds=(1e-6, 1e3), method="bounded")
        best = minimize_scalar(
            minus_log_l,
            bounds=(0.99 * best.x, 1.01 * best.x),
            method="bounded",
            options={"xatol": 1e-10},
        )
        assert background[idx] == pytest.approx(alpha * best.x, rel=1e-6)


def test_netcdf_round_trip(tmp_path):
    onoff = onoff_dataset()
    onoff.mask_safe.data[1] = False
    onoff.mask_safe.data[:, 0, :3] = False  # alpha = 0 and no signal: WStat undefined
    path = tmp_path / "onoff.nc"
    onoff.write(path)
    back = MapDatasetOnOff.read(path)
    assert isinstance(back, MapDatasetOnOff)
    for key in ("counts", "exposure", "counts_off", "acceptance", "acceptance_off", "mask_safe"):
        np.testing.assert_array_equal(getattr(back, key).data, getattr(onoff, key).data)
        assert getattr(back, key).geom == getattr(onoff, key).geom
    assert back.name == "obs" and back.meta == {"obs_id": 7} and back.livetime == 1000 * u.s
    assert back.stat_sum() == pytest.approx(onoff.stat_sum(), rel=1e-12)
    with pytest.raises(DataFormatError, match="dataset_type 'MapDatasetOnOff'"):
        MapDataset.read(path)


def test_netcdf_errors(tmp_path):
    onoff = onoff_dataset()
    ds = onoff.to_xarray().drop_vars("acceptance_off")
    with pytest.raises(DataFormatError, match="onoff.nc: variable 'acceptance_off' is missing"):
        MapDatasetOnOff.from_xarray(ds, filename=tmp_path / "onoff.nc")
    plain = tmp_path / "plain.nc"
    base_dataset().write(plain)
    with pytest.raises(DataFormatError, match="expected 'MapDatasetOnOff'"):
        MapDatasetOnOff.read(plain)


def test_invalid_maps_are_refused():
    onoff = onoff_dataset()
    with pytest.raises(GammarulesError, match="acceptance_off has negative values"):
        onoff.copy(acceptance_off=onoff.acceptance_off.copy(data=-onoff.acceptance_off.data))
    small = onoff.counts_off.cutout(CENTER, 0.5 * u.deg)
    with pytest.raises(GammarulesError, match="counts_off must be a Map on the counts geometry"):
        onoff.copy(counts_off=small)


def test_cutout_keeps_the_off_maps():
    onoff = onoff_dataset()
    cut = onoff.cutout(CENTER, 0.5 * u.deg)
    assert isinstance(cut, MapDatasetOnOff)
    assert cut.counts_off.geom == cut.geom == cut.acceptance.geom
    total = cut.counts_off.data.sum()
    assert 0 < total < onoff.counts_off.data.sum()


def test_stack_keeps_the_off_background_estimate():
    big = onoff_dataset(seed=3, nx=16, ny=14)
    parts = [onoff_dataset(seed=s).cutout(CENTER, 0.8 * u.deg) for s in (4, 5)]
    parts[1].mask_safe.data[1] = False
    sl = (Ellipsis, *big.geom.cutout_index(CENTER, 0.8 * u.deg))
    no_off = (0, sl[1].start + 2, sl[2].start + 2)  # no OFF counts in any input
    big.counts_off.data[no_off] = 0
    for part in parts:
        part.counts_off.data[0, 2, 2] = 0
    stacked = big.copy()
    for part in parts:
        stacked.stack(part)

    def summed(key):
        total = getattr(big, key).data.copy()
        for part in parts:
            total[sl] += getattr(part, key).data * part.mask_safe.data
        return total

    np.testing.assert_allclose(stacked.counts_off.data, summed("counts_off"))
    np.testing.assert_allclose(stacked.acceptance.data, summed("acceptance"))
    np.testing.assert_allclose(stacked.counts.data, summed("counts"))
    has_off = stacked.counts_off.data > 0
    np.testing.assert_allclose(
        stacked.background.data[has_off], summed("background")[has_off], rtol=1e-12
    )
    assert stacked.counts_off.data[no_off] == 0
    expected = summed("acceptance")[no_off] / summed("acceptance_off")[no_off]
    assert stacked.alpha.data[no_off] == pytest.approx(expected, rel=1e-12)
    assert stacked.livetime == 3000 * u.s


def test_stack_refuses_a_map_dataset():
    with pytest.raises(GammarulesError, match="expected a MapDatasetOnOff"):
        onoff_dataset().stack(base_dataset())


def test_info_dict_uses_li_ma():
    onoff = onoff_dataset()
    onoff.mask_safe.data[:, 0, :3] = False
    info = onoff.info_dict()
    safe = onoff.mask_safe.data
    n_on, n_off = onoff.counts.data[safe].sum(), onoff.counts_off.data[safe].sum()
    background = (onoff.alpha.data * onoff.counts_off.data)[safe].sum()
    assert info["counts_off"] == n_off
    assert info["alpha"] == pytest.approx(background / n_off)
    assert info["sqrt_ts"] == pytest.approx(
        np.sign(n_on - background) * li_ma(n_on, n_off, background / n_off), rel=1e-9
    )
