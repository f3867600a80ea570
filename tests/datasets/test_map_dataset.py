"""MapDataset: creation, copies, cutouts, stacking, summary and the NetCDF schema."""

import numpy as np
import pytest
import xarray as xr
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammarules.datasets import EDispKernelMap, MapDataset, PSFMap
from gammarules.datasets.map import SCHEMA, paste_slices
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import Map, MapAxis, WcsGeom

CENTER = SkyCoord(83.6, 22.0, unit="deg")


def axes():
    return (
        MapAxis.from_energy_bounds(1, 10, 3),
        MapAxis.from_energy_bounds(0.5, 20, 4, name="energy_true"),
    )


def filled_dataset(seed=0):
    reco, true = axes()
    geom = WcsGeom.create(CENTER, 0.1, width=(2.0, 1.0), axes=[reco])
    dataset = MapDataset.create(geom, true, name="filled", binsz_irf=0.5)
    rng = np.random.default_rng(seed)
    dataset.counts.data[:] = rng.poisson(3.0, geom.data_shape)
    dataset.background.data[:] = 2.5
    dataset.exposure.data[:] = rng.uniform(1e9, 2e9, dataset.exposure.geom.data_shape)
    dataset.psf.irf_map.data[:] = rng.uniform(0, 1, dataset.psf.irf_map.data.shape)
    dataset.psf.exposure_map.data[:] = 1e9
    dataset.edisp.irf_map.data[:] = rng.uniform(0, 1, dataset.edisp.irf_map.data.shape)
    dataset.edisp.exposure_map.data[:] = 1e9
    dataset.mask_safe.data[:] = True
    dataset.mask_safe.data[0, :, :5] = False
    dataset.livetime = 1234.5 * u.s
    dataset.meta = {"obs_id": 7, "note": "test"}
    return dataset


def test_create_shapes_units_and_irf_grid():
    reco, true = axes()
    geom = WcsGeom.create(CENTER, 0.02, width=4, axes=[reco])
    dataset = MapDataset.create(geom, true, name="d")
    assert dataset.counts.data.shape == (3, 200, 200)
    assert dataset.exposure.data.shape == (4, 200, 200)
    assert dataset.exposure.unit == u.Unit("cm2 s")
    assert not dataset.mask_safe.data.any()
    assert isinstance(dataset.psf, PSFMap) and isinstance(dataset.edisp, EDispKernelMap)
    assert dataset.psf.irf_map.data.shape == (4, 66, 20, 20)
    assert dataset.psf.irf_map.geom.axes[1].edges_in("deg")[-1] == pytest.approx(0.66)
    assert dataset.edisp.irf_map.data.shape == (4, 3, 20, 20)
    assert dataset.psf.geom.width.to_value("deg") == pytest.approx([4.0, 4.0])
    assert dataset.info_dict()["n_safe_bins"] == 0


def test_copy_is_independent_and_applies_changes():
    dataset = filled_dataset()
    other = dataset.copy(name="other")
    other.counts.data[:] = 0
    other.psf.irf_map.data[:] = 0
    assert other.name == "other" and dataset.name == "filled"
    assert dataset.counts.data.sum() > 0 and dataset.psf.irf_map.data.sum() > 0


def test_info_dict_sums_the_safe_bins():
    dataset = filled_dataset()
    safe = dataset.mask_safe.data
    info = dataset.info_dict()
    assert info["counts"] == dataset.counts.data[safe].sum()
    assert info["background"] == pytest.approx(2.5 * safe.sum())
    assert info["excess"] == pytest.approx(info["counts"] - 2.5 * safe.sum())
    assert info["livetime_s"] == 1234.5


def test_cutout_keeps_pixels_and_stacks_back():
    dataset = filled_dataset()
    position = dataset.geom.pix_to_coord(5, 4)
    cut = dataset.cutout(position, 0.6)
    assert cut.geom.spatial_shape == (6, 6)
    sy, sx = paste_slices(dataset.geom, cut.geom)
    np.testing.assert_array_equal(cut.counts.data, dataset.counts.data[:, sy, sx])
    assert cut.psf.geom.spatial_shape[0] >= 2
    empty = MapDataset.create(dataset.geom, dataset.energy_axis_true, binsz_irf=0.5)
    empty.stack(cut)
    safe = cut.mask_safe.data
    assert empty.counts.data.sum() == cut.counts.data[safe].sum()
    np.testing.assert_array_equal(empty.mask_safe.data[:, sy, sx], safe)
    assert empty.mask_safe.data.sum() == safe.sum()
    np.testing.assert_allclose(empty.exposure.data[:, sy, sx], cut.exposure.data)
    # the PSF of a single dataset stacked into an empty one is unchanged
    py, px = paste_slices(empty.psf.geom, cut.psf.geom)
    np.testing.assert_allclose(empty.psf.irf_map.data[..., py, px], cut.psf.irf_map.data)


def test_stack_refuses_other_energy_axes():
    dataset = filled_dataset()
    reco = MapAxis.from_energy_bounds(1, 10, 5)
    geom = dataset.geom.to_cube([reco])
    other = MapDataset.create(geom, dataset.energy_axis_true, binsz_irf=0.5)
    with pytest.raises(GammarulesError, match="energy axes"):
        dataset.stack(other)


def test_netcdf_round_trip(tmp_path):
    dataset = filled_dataset()
    path = tmp_path / "map.nc"
    dataset.write(path)
    back = MapDataset.read(path)
    assert back.name == "filled" and back.meta == dataset.meta
    assert back.livetime == 1234.5 * u.s
    assert back.geom == dataset.geom
    for key in ("counts", "exposure", "background", "mask_safe"):
        np.testing.assert_array_equal(getattr(back, key).data, getattr(dataset, key).data)
    assert back.mask_safe.data.dtype == bool and back.mask_fit is None
    assert back.exposure.unit == u.Unit("cm2 s")
    for key in ("psf", "edisp"):
        ours, theirs = getattr(back, key), getattr(dataset, key)
        assert ours.irf_map.geom == theirs.irf_map.geom
        np.testing.assert_array_equal(ours.irf_map.data, theirs.irf_map.data)
        np.testing.assert_array_equal(ours.exposure_map.data, theirs.exposure_map.data)
    with xr.open_dataset(path) as ds:
        assert ds.attrs["schema"] == SCHEMA
        assert ds["psf"].dims == ("energy_true", "rad", "y_irf", "x_irf")
        assert ds["counts"].dims == ("energy", "y", "x")
        assert ds["energy_edges"].size == 4 and ds["energy_edges"].attrs["units"] == "TeV"
        assert all("units" in ds[name].attrs for name in ds.data_vars)
    with pytest.raises(GammarulesError, match="exists"):
        dataset.write(path)


def test_netcdf_exposure_in_other_units_is_converted(tmp_path):
    dataset = filled_dataset()
    ds = dataset.to_xarray()
    ds["exposure"] = ds["exposure"] * 1e-4
    ds["exposure"].attrs.update(dataset.to_xarray()["exposure"].attrs, units="m2 s")
    back = MapDataset.from_xarray(ds)
    np.testing.assert_allclose(back.exposure.data, dataset.exposure.data)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda ds: ds.drop_vars("counts"), "variable 'counts' is missing"),
        (lambda ds: ds["exposure"].attrs.update(units="m") or ds, "expected 'cm2 s'"),
        (lambda ds: ds.attrs.update(schema="other") or ds, "expected 'gammarules-map-dataset'"),
        (lambda ds: ds.attrs.pop("livetime") and ds, "attribute 'livetime' is missing"),
        (lambda ds: ds["psf"].attrs.pop("wcs_header") and ds, "wcs_header"),
    ],
)
def test_netcdf_invalid_files_name_the_file(tmp_path, change, match):
    path = tmp_path / "bad.nc"
    change(filled_dataset().to_xarray()).to_netcdf(path)
    with pytest.raises(DataFormatError, match=match) as info:
        MapDataset.read(path)
    assert "bad.nc" in str(info.value)


def test_read_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match="missing.nc"):
        MapDataset.read(tmp_path / "missing.nc")


def test_constructor_checks_axes_and_geometries():
    dataset = filled_dataset()
    with pytest.raises(GammarulesError, match="energy_true"):
        MapDataset(dataset.counts, dataset.counts)
    small = Map(dataset.geom.cutout(CENTER, 0.5))
    with pytest.raises(GammarulesError, match="background geometry"):
        MapDataset(dataset.counts, dataset.exposure, background=small)
