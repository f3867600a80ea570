"""DL4 NetCDF round trip and schema checks of spectrum datasets."""

import numpy as np
import pytest
import xarray as xr
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammarules.datasets import SCHEMA, SpectrumDataset, SpectrumDatasetOnOff, read_ogip
from gammarules.errors import DataFormatError, GammarulesError

REGION = CircleSkyRegion(SkyCoord(83.633, 22.014, unit="deg"), 0.11 * u.deg)


def assert_same_dataset(actual, expected):
    assert type(actual) is type(expected)
    for name in ("counts", "edisp", "mask_safe", "mask_fit"):
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name), err_msg=name)
    assert actual.mask_safe.dtype == bool
    np.testing.assert_array_equal(actual.exposure.to_value("cm2 s"), expected.exposure.value)
    for axis in ("energy_axis", "energy_axis_true"):
        a, b = getattr(actual, axis), getattr(expected, axis)
        np.testing.assert_array_equal(a.edges.value, b.edges.value)
        assert a.unit == b.unit and a.interp == b.interp and a.name == b.name
    assert actual.livetime == expected.livetime
    assert actual.name == expected.name
    assert actual.meta == expected.meta
    if isinstance(expected, SpectrumDatasetOnOff):
        for name in ("counts_off", "acceptance", "acceptance_off"):
            np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name))
    elif expected.background is None:
        assert actual.background is None
    else:
        np.testing.assert_array_equal(actual.background, expected.background)


@pytest.fixture
def described(make_onoff):
    dataset = make_onoff(name="23523")
    fit = np.ones(dataset.energy_axis.nbin, dtype=bool)
    fit[4] = False
    dataset.mask_fit = fit
    dataset.meta.update(
        region=REGION.serialize(format="ds9"),
        pointing={"ra_deg": 83.63, "dec_deg": 22.51},
        provenance={"inputs": {"events.fits": "sha256:abc"}, "config_hash": "f00"},
    )
    return dataset


def test_onoff_round_trip_is_exact(described, tmp_path):
    path = tmp_path / "dl4" / "obs_23523.nc"
    described.write(path)
    assert_same_dataset(SpectrumDatasetOnOff.read(path), described)
    assert_same_dataset(SpectrumDataset.read(path), described)


def test_cash_round_trip_with_and_without_background(make_cash, tmp_path):
    with_background = make_cash()
    with_background.write(tmp_path / "a.nc")
    assert_same_dataset(SpectrumDataset.read(tmp_path / "a.nc"), with_background)

    without = SpectrumDataset(
        counts=with_background.counts,
        exposure=with_background.exposure,
        edisp=with_background.edisp,
        energy_axis=with_background.energy_axis,
        energy_axis_true=with_background.energy_axis_true,
        livetime=with_background.livetime,
        name="no-bkg",
    )
    without.write(tmp_path / "b.nc")
    read = SpectrumDataset.read(tmp_path / "b.nc")
    assert_same_dataset(read, without)
    assert "background" not in without.to_xarray()


def test_schema_layout(described):
    ds = described.to_xarray()
    n_reco, n_true = 12, 18
    assert ds.attrs["schema"] == SCHEMA and ds.attrs["dataset_type"] == "SpectrumDatasetOnOff"
    assert ds.attrs["livetime"] == 1800.0 and ds.attrs["livetime_units"] == "s"
    assert ds.attrs["geometry"].splitlines()[-1].startswith("circle(83.633")
    assert "config_hash" in ds.attrs["provenance"] and "region" not in ds.attrs["meta"]
    assert ds["edisp"].dims == ("energy_true", "energy")
    assert ds["exposure"].attrs["units"] == "cm2 s"
    for name in ("counts", "counts_off", "acceptance", "acceptance_off", "mask_safe", "mask_fit"):
        assert ds[name].dims == ("energy",) and ds[name].attrs["units"] == ""
    assert ds.sizes["energy_edges"] == n_reco + 1 and ds.sizes["energy_true_edges"] == n_true + 1
    np.testing.assert_allclose(
        ds["energy"].values, np.sqrt(ds["energy_edges"].values[1:] * ds["energy_edges"].values[:-1])
    )
    assert ds["energy_true_edges"].attrs["units"] == "TeV"


def test_region_object_is_written_as_ds9_text(make_onoff):
    dataset = make_onoff()
    dataset.meta["region"] = REGION
    read = SpectrumDatasetOnOff.from_xarray(dataset.to_xarray())
    assert isinstance(read.meta["region"], str)
    assert read.region.center.dec.deg == pytest.approx(22.014)
    assert read.region.radius.to_value("deg") == pytest.approx(0.11)


def test_units_are_converted_on_read(described):
    ds = described.to_xarray()
    ds["exposure"] = ds["exposure"] / 1e4
    ds["exposure"].attrs["units"] = "m2 s"
    read = SpectrumDatasetOnOff.from_xarray(ds)
    np.testing.assert_allclose(read.exposure.value, described.exposure.value, rtol=1e-15)


def _drop(ds, name):
    return ds.drop_vars(name)


def _transpose_edisp(ds):
    ds["edisp"] = ds["edisp"].transpose()
    return ds


def _bad_units(ds):
    ds["exposure"].attrs["units"] = "cm2"
    return ds


def _no_units(ds):
    del ds["counts_off"].attrs["units"]
    return ds


def _version(ds):
    ds.attrs["schema_version"] = 99
    return ds


def _bad_edges(ds):
    return ds.isel(energy_edges=slice(0, 5))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda ds: _drop(ds, "exposure"), "variable 'exposure' is missing"),
        (lambda ds: _drop(ds, "acceptance_off"), "variable 'acceptance_off' is missing"),
        (lambda ds: _drop(ds, "energy_true_edges"), "coordinate 'energy_true_edges' is missing"),
        (_transpose_edisp, "variable 'edisp' has dims ('energy', 'energy_true')"),
        (_bad_units, "variable 'exposure' has units 'cm2', expected 'cm2 s'"),
        (_no_units, "variable 'counts_off' has no 'units' attribute"),
        (_version, "version 99"),
        (_bad_edges, "coordinate 'energy_edges' must have dims"),
        (lambda ds: ds.drop_attrs(), "attribute 'schema' is missing"),
    ],
)
def test_schema_violations_name_file_and_problem(described, tmp_path, corrupt, message):
    path = tmp_path / "corrupt.nc"
    corrupt(described.to_xarray()).to_netcdf(path, engine="netcdf4")
    with pytest.raises(DataFormatError, match="corrupt.nc") as error:
        SpectrumDatasetOnOff.read(path)
    assert message in str(error.value)


def test_reading_wrong_type_or_file(make_cash, described, tmp_path):
    make_cash().write(tmp_path / "cash.nc")
    with pytest.raises(DataFormatError, match="'SpectrumDataset' is not a SpectrumDatasetOnOff"):
        SpectrumDatasetOnOff.read(tmp_path / "cash.nc")
    with pytest.raises(DataFormatError, match="missing.nc: file not found"):
        SpectrumDataset.read(tmp_path / "missing.nc")
    (tmp_path / "text.nc").write_text("not netcdf")
    with pytest.raises(DataFormatError, match="text.nc: not a readable NetCDF4 file"):
        SpectrumDataset.read(tmp_path / "text.nc")
    described.write(tmp_path / "x.nc")
    with pytest.raises(GammarulesError, match="file exists"):
        described.write(tmp_path / "x.nc")
    described.write(tmp_path / "x.nc", overwrite=True)


def test_meta_must_be_json(make_onoff):
    dataset = make_onoff(name="odd")
    dataset.meta["pointing"] = SkyCoord(1, 2, unit="deg")
    with pytest.raises(GammarulesError, match="dataset 'odd': meta must be JSON-serialisable"):
        dataset.to_xarray()


@pytest.mark.data
def test_joint_crab_dataset_round_trip(data_dir, tmp_path):
    dataset = read_ogip(data_dir / "joint-crab" / "spectra" / "magic" / "pha_obs5029747.fits")
    dataset.write(tmp_path / "magic.nc")
    read = SpectrumDatasetOnOff.read(tmp_path / "magic.nc")
    assert_same_dataset(read, dataset)
    assert read.info_dict() == dataset.info_dict()
    with xr.open_dataset(tmp_path / "magic.nc") as ds:
        assert ds.attrs["name"] == "5029747"
        assert ds["counts"].sum() == dataset.counts.sum()
