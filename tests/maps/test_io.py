"""Map I/O: FITS (GADF sky maps) and NetCDF round trips, real files, errors."""

import warnings

import numpy as np
import pytest
import xarray as xr
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS, FITSFixedWarning

from gammarules.errors import DataFormatError
from gammarules.maps import HpxGeom, Map, MapAxis, WcsGeom

CRAB = SkyCoord(83.633, 22.014, unit="deg")
ENERGY = MapAxis.from_energy_bounds(0.1, 100, 5, unit="TeV")
ENERGY_TRUE = MapAxis.from_nodes([0.5, 1.0, 3.0, 10.0] * u.TeV, name="energy_true")


def _maps():
    rng = np.random.default_rng(0)
    wcs = WcsGeom.create(CRAB, 0.05, npix=(12, 8), frame="galactic", proj="TAN", axes=[ENERGY])
    hpx = HpxGeom.create(32, skydir=CRAB, width=6, nest=False, axes=[ENERGY_TRUE])
    return [
        Map(wcs, rng.poisson(3, wcs.data_shape), unit=""),
        Map(wcs.to_image(), rng.random(wcs.spatial_shape), unit="cm-2 s-1"),
        Map(wcs.to_cube([ENERGY_TRUE]), rng.random((4, 8, 12)), unit="cm2 s"),
        Map(hpx, rng.random(hpx.data_shape), unit="cm2 s"),
        Map(HpxGeom(4, frame="galactic", axes=[ENERGY]), rng.poisson(2, (5, 192))),
        Map(HpxGeom(4), rng.random(192) > 0.5),
    ]


@pytest.mark.parametrize("suffix", [".fits", ".fits.gz", ".nc"])
@pytest.mark.parametrize("index", range(6))
def test_round_trip_is_exact(tmp_path, suffix, index):
    m = _maps()[index]
    path = tmp_path / f"map{suffix}"
    m.write(path)
    back = Map.read(path)
    assert back.geom == m.geom
    assert back.unit == m.unit
    if m.data.dtype == bool:
        np.testing.assert_array_equal(back.data.astype(bool), m.data)
    else:
        np.testing.assert_array_equal(back.data, m.data)
    for a, b in zip(back.geom.axes, m.geom.axes, strict=True):
        assert a.node_type == b.node_type
        np.testing.assert_array_equal(a.center.to_value(b.unit), b.center.value)


def test_fits_layout_follows_gadf(tmp_path):
    wcs_map, _, _, hpx_map, *_ = _maps()
    wcs_map.write(tmp_path / "wcs.fits")
    with fits.open(tmp_path / "wcs.fits") as hdulist:
        assert hdulist[0].header["BANDSHDU"] == "EBOUNDS"
        bands = Table.read(hdulist["EBOUNDS"])
        assert hdulist["EBOUNDS"].header["AXCOLS1"] == "E_MIN,E_MAX"
        np.testing.assert_allclose(bands["E_MIN"].quantity.to_value("TeV"), ENERGY.edges[:-1].value)
        assert hdulist[0].data.shape == (5, 8, 12)
    hpx_map.write(tmp_path / "hpx.fits", hdu="EXPOSURE")
    with fits.open(tmp_path / "hpx.fits") as hdulist:
        header = hdulist["EXPOSURE"].header
        assert header["PIXTYPE"] == "HEALPIX" and header["ORDERING"] == "RING"
        assert header["NSIDE"] == 32 and header["INDXSCHM"] == "EXPLICIT"
        assert header["COORDSYS"] == "CEL" and header["BANDSHDU"] == "EXPOSURE_BANDS"
        assert hdulist["EXPOSURE_BANDS"].header["AXCOLS1"] == "ENERGY_TRUE"
        np.testing.assert_array_equal(hdulist["EXPOSURE"].data["PIX"], hpx_map.geom.pixels)
        np.testing.assert_array_equal(hdulist["EXPOSURE"].data["CHANNEL2"], hpx_map.data[2])


def test_netcdf_schema(tmp_path):
    m = _maps()[0]
    ds = m.to_xarray(name="counts")
    assert ds["counts"].dims == ("energy", "y", "x")
    assert ds["counts"].attrs["geom_type"] == "wcs"
    np.testing.assert_array_equal(ds["energy_edges"].values, ENERGY.edges.value)
    assert ds["energy_edges"].attrs["units"] == "TeV"
    # several maps in one dataset: pick one by name
    both = xr.merge([ds, _maps()[1].to_xarray(name="flux")])
    assert Map.from_xarray(both, name="flux").unit == u.Unit("cm-2 s-1")
    with pytest.raises(DataFormatError, match="give the map variable name"):
        Map.from_xarray(both)
    broken = ds.copy()
    del broken["counts"].attrs["units"]
    with pytest.raises(DataFormatError, match="variable 'counts' has no attribute 'units'"):
        Map.from_xarray(broken)
    with pytest.raises(DataFormatError, match="coordinate 'energy_edges' is missing"):
        Map.from_xarray(ds.drop_vars("energy_edges"))
    path = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", [1, 2])}, attrs={"schema": "something"}).to_netcdf(path)
    with pytest.raises(DataFormatError, match="other.nc.*gammarules-map"):
        Map.read(path)


def test_read_errors_name_file_and_hdu(tmp_path):
    with pytest.raises(DataFormatError, match="missing.fits"):
        Map.read(tmp_path / "missing.fits")
    table_only = tmp_path / "table.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(Table({"A": [1, 2]}))]).writeto(table_only)
    with pytest.raises(DataFormatError, match="table.fits.*no image HDU"):
        Map.read(table_only)
    geom = WcsGeom.create(CRAB, 0.1, npix=4)
    image = tmp_path / "image.fits"
    Map(geom, np.ones(geom.data_shape)).write(image)
    with pytest.raises(DataFormatError, match="image.fits.*no HDU 'EXCLUSION'"):
        Map.read(image, hdu="EXCLUSION")
    cube = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.zeros((2, 4, 4)), geom.to_header()).writeto(cube)
    with pytest.raises(DataFormatError, match=r"cube.fits, HDU 'PRIMARY'.*\(2, 4, 4\)"):
        Map.read(cube)
    header = geom.to_header()
    header["BANDSHDU"] = "BANDS"
    fits.PrimaryHDU(np.zeros((2, 4, 4)), header).writeto(tmp_path / "nobands.fits")
    with pytest.raises(DataFormatError, match="nobands.fits, HDU 'PRIMARY'.*'BANDS' not found"):
        Map.read(tmp_path / "nobands.fits")
    ebounds = fits.table_to_hdu(Table({"E_MIN": [1, 2, 3] * u.TeV, "E_MAX": [2, 3, 4] * u.TeV}))
    ebounds.name = "EBOUNDS"
    fits.HDUList([fits.PrimaryHDU(np.zeros((2, 4, 4)), geom.to_header()), ebounds]).writeto(
        tmp_path / "mismatch.fits"
    )
    with pytest.raises(DataFormatError, match="mismatch.fits, HDU 'EBOUNDS'.*3.*2 planes"):
        Map.read(tmp_path / "mismatch.fits")
    hpx = fits.BinTableHDU(Table({"CHANNEL0": np.zeros(48)}), name="SKYMAP")
    hpx.header["PIXTYPE"] = "HEALPIX"
    hpx.header["NSIDE"] = 2
    fits.HDUList([fits.PrimaryHDU(), hpx]).writeto(tmp_path / "hpx.fits")
    with pytest.raises(DataFormatError, match="hpx.fits, HDU 'SKYMAP'.*ORDERING missing"):
        Map.read(tmp_path / "hpx.fits")


def test_single_plane_cube_without_bands_reads_as_image(tmp_path):
    geom = WcsGeom.create(CRAB, 0.1, npix=(5, 4))
    cube = np.arange(20.0).reshape(1, 4, 5)
    path = tmp_path / "cube.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cube, geom.to_header(), name="MASK")]).writeto(
        path
    )
    for hdu in (None, "MASK", 1):
        back = Map.read(path, hdu=hdu)
        np.testing.assert_array_equal(back.data, cube[0])
        assert back.geom == geom


@pytest.mark.data
def test_read_fermi_3fhl_counts_cube(data_dir):
    path = data_dir / "fermi-3fhl-gc" / "fermi-3fhl-gc-counts-cube.fits.gz"
    m = Map.read(path)
    with fits.open(path) as hdulist:
        raw = hdulist[0].data
        ebounds = Table.read(hdulist["EBOUNDS"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(hdulist[0].header).celestial
    assert m.data.shape == raw.shape == (11, 200, 400)
    assert m.data.sum() == raw.sum() == 32684
    np.testing.assert_array_equal(m.data, raw)
    np.testing.assert_allclose(
        m.geom.axes[0].edges_min.to_value("keV"), np.asarray(ebounds["E_MIN"]), rtol=1e-7
    )
    assert m.geom.axes[0].name == "energy" and m.geom.frame == "galactic"
    assert m.geom.wcs.wcs.compare(wcs.wcs)
    # the Gammapy-written dataset file holds the same counts and a node-type exposure axis
    dataset = data_dir / "fermi-3fhl-gc" / "fermi-3fhl-gc.fits.gz"
    counts = Map.read(dataset, hdu="COUNTS")
    np.testing.assert_array_equal(counts.data, raw)
    assert counts.geom == m.geom
    exposure = Map.read(dataset, hdu="EXPOSURE")
    assert exposure.unit == u.Unit("cm2 s")
    assert exposure.geom.axes[0].name == "energy_true"
    assert exposure.geom.axes[0].node_type == "center"
    cube = Map.read(data_dir / "fermi-3fhl-gc" / "fermi-3fhl-gc-exposure-cube.fits.gz")
    np.testing.assert_allclose(
        cube.geom.axes[0].center.to_value("MeV"), exposure.geom.axes[0].center.to_value("MeV")
    )
    np.testing.assert_array_equal(cube.data, exposure.data)


@pytest.mark.data
def test_read_exclusion_mask(data_dir):
    path = data_dir / "joint-crab" / "exclusion" / "exclusion_mask_crab.fits.gz"
    m = Map.read(path)
    with fits.open(path) as hdulist:
        raw = hdulist[0].data
    assert m.data.shape == (250, 250)
    assert m.geom.projection == "TAN" and m.geom.frame == "icrs"
    np.testing.assert_array_equal(m.data, raw)
    # the Crab position is excluded (0), the map corner is usable (1)
    assert m.get_by_coord(CRAB) == 0 and m.data[0, 0] == 1
