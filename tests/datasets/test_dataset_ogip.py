"""OGIP PHA/BKG/ARF/RMF writing and reading, on synthetic files and the joint-Crab spectra."""

import numpy as np
import pytest
from astropy.io import fits

from gammarules.datasets import SpectrumDatasetOnOff, read_ogip
from gammarules.errors import DataFormatError

INSTRUMENTS = {"hess": 4, "magic": 2, "fermi": 1}


def assert_round_trip(read, dataset, edisp):
    np.testing.assert_array_equal(read.counts, dataset.counts)
    np.testing.assert_array_equal(read.counts_off, dataset.counts_off)
    np.testing.assert_array_equal(read.mask_safe, dataset.mask_safe)
    np.testing.assert_array_equal(read.acceptance, dataset.acceptance)
    np.testing.assert_array_equal(read.acceptance_off, dataset.acceptance_off)
    np.testing.assert_allclose(read.exposure.value, dataset.exposure.value, rtol=1e-15)
    np.testing.assert_array_equal(read.edisp, edisp)
    assert read.livetime == dataset.livetime
    assert read.energy_axis == dataset.energy_axis
    assert read.energy_axis_true == dataset.energy_axis_true
    np.testing.assert_allclose(
        read.energy_axis.edges_in("TeV"), dataset.energy_axis.edges_in("TeV"), rtol=1e-15
    )


def test_synthetic_round_trip(make_onoff, tmp_path):
    dataset = make_onoff(seed=11, name="42")
    dataset.meta["obs_id"] = 42
    pha = dataset.write_ogip(tmp_path)
    assert pha == tmp_path / "pha_42.fits"
    read = read_ogip(pha)
    assert isinstance(read, SpectrumDatasetOnOff)
    assert read.name == "42" and read.meta == {"obs_id": 42}
    # RMF elements are float32, as OGIP specifies
    assert_round_trip(read, dataset, edisp=dataset.edisp.astype(np.float32).astype(float))
    assert read.info_dict()["excess"] == pytest.approx(dataset.info_dict()["excess"], rel=1e-15)


def test_written_files_follow_ogip(make_onoff, tmp_path):
    dataset = make_onoff(seed=12, n_off_regions=7, name="run")
    dataset.edisp[3, :] = 0.0  # a true-energy bin that reaches no channel
    dataset.write_ogip(tmp_path)
    livetime = dataset.livetime.value
    with fits.open(tmp_path / "pha_run.fits") as hdul:
        spectrum = hdul["SPECTRUM"]
        header = spectrum.header
        assert header["HDUCLAS1"] == "SPECTRUM" and header["HDUCLAS4"] == "TYPE:I"
        assert header["BACKFILE"] == "bkg_run.fits" and header["RESPFILE"] == "rmf_run.fits"
        assert header["ANCRFILE"] == "arf_run.fits" and header["EXPOSURE"] == livetime
        assert header["TLMIN1"] == 0 and header["TLMAX1"] == 11 and header["POISSERR"]
        np.testing.assert_array_equal(spectrum.data["QUALITY"], np.where(dataset.mask_safe, 0, 1))
        np.testing.assert_array_equal(spectrum.data["COUNTS"], dataset.counts)
        assert spectrum.data["COUNTS"].dtype.kind == "i"
        np.testing.assert_array_equal(spectrum.data["BACKSCAL"], 1.0)
    with fits.open(tmp_path / "bkg_run.fits") as hdul:
        assert hdul["SPECTRUM"].header["HDUCLAS2"] == "BKG"
        np.testing.assert_array_equal(hdul["SPECTRUM"].data["BACKSCAL"], dataset.acceptance_off)
    with fits.open(tmp_path / "arf_run.fits") as hdul:
        arf = hdul["SPECRESP"]
        assert arf.columns["SPECRESP"].unit == "cm2" and arf.columns["ENERG_LO"].unit == "keV"
        np.testing.assert_allclose(arf.data["SPECRESP"], dataset.exposure.value / livetime)
        np.testing.assert_allclose(arf.data["ENERG_HI"][-1], 200 * 1e9)
    with fits.open(tmp_path / "rmf_run.fits") as hdul:
        matrix = hdul["MATRIX"]
        nonzero = dataset.edisp.astype(np.float32) != 0
        assert matrix.header["NUMELT"] == nonzero.sum()
        assert matrix.header["TLMIN4"] == 0 and matrix.header["HDUCLAS3"] == "REDIST"
        assert matrix.data["N_GRP"][3] == 0
        row = matrix.data[10]
        assert row["N_GRP"] == 1
        first = np.flatnonzero(nonzero[10])[0]
        assert row["F_CHAN"][0] == first and row["N_CHAN"][0] == nonzero[10].sum()
        np.testing.assert_array_equal(row["MATRIX"], dataset.edisp[10][nonzero[10]].astype("f4"))
        assert matrix.columns["MATRIX"].format.startswith("P")
        np.testing.assert_array_equal(hdul["EBOUNDS"].data["CHANNEL"], np.arange(12))


def test_non_integer_counts_are_written_as_floats(make_onoff, tmp_path):
    dataset = make_onoff(seed=13, name="asimov")
    dataset.counts = dataset.counts + 0.25
    read = read_ogip(dataset.write_ogip(tmp_path))
    np.testing.assert_array_equal(read.counts, dataset.counts)
    with fits.open(tmp_path / "pha_asimov.fits") as hdul:
        assert hdul["SPECTRUM"].header["POISSERR"] is False


def _rewrite(path, hdu_name, edit):
    with fits.open(path) as hdul:
        edit(hdul[hdu_name])
        hdul.writeto(path, overwrite=True)


def test_reads_other_ogip_conventions(make_onoff, tmp_path):
    """Channels counted from 1 without TLMIN (the OGIP default), PHA rows in reverse order,
    BACKSCAL and AREASCAL as BKG keywords, a BKG exposure different from the ON one."""
    dataset = make_onoff(seed=14, name="conv")
    pha = dataset.write_ogip(tmp_path)
    rmf = tmp_path / "rmf_conv.fits"

    def without_tlmin(hdu, drop=()):
        columns = [c for c in hdu.columns if c.name not in drop]
        header = hdu.header.copy()
        for key in ("TLMIN1", "TLMAX1", "TLMIN4", "TLMAX4"):
            header.remove(key, ignore_missing=True)
        return fits.BinTableHDU.from_columns(columns, header=header, name=hdu.name)

    with fits.open(pha) as hdul:
        spectrum = without_tlmin(hdul["SPECTRUM"])
        spectrum.data["CHANNEL"] += 1
        spectrum.data = spectrum.data[::-1]
        fits.HDUList([fits.PrimaryHDU(), spectrum]).writeto(pha, overwrite=True)
    with fits.open(tmp_path / "bkg_conv.fits") as hdul:
        background = without_tlmin(hdul["SPECTRUM"], drop=("BACKSCAL", "AREASCAL"))
        background.data["CHANNEL"] += 1
        background.header.update(EXPOSURE=2 * hdul["SPECTRUM"].header["EXPOSURE"])
        background.header.update(BACKSCAL=8.0, AREASCAL=0.5)
        fits.HDUList([fits.PrimaryHDU(), background]).writeto(hdul.filename(), overwrite=True)
    with fits.open(rmf) as hdul:
        for row in hdul["MATRIX"].data:
            row["F_CHAN"][:] += 1
        del hdul["MATRIX"].header["TLMIN4"], hdul["MATRIX"].header["TLMAX4"]
        hdul["EBOUNDS"].data["CHANNEL"] += 1
        hdul.writeto(rmf, overwrite=True)

    read = read_ogip(pha)
    np.testing.assert_array_equal(read.counts, dataset.counts)
    np.testing.assert_array_equal(read.counts_off, dataset.counts_off)
    np.testing.assert_array_equal(read.mask_safe, dataset.mask_safe)
    np.testing.assert_array_equal(read.edisp, dataset.edisp.astype(np.float32).astype(float))
    # alpha = (t B A)_on / (t B A)_off = 1 / (2 * 8 * 0.5)
    np.testing.assert_allclose(read.alpha, 1 / 8.0, rtol=1e-15)


@pytest.fixture
def written(make_onoff, tmp_path):
    return make_onoff(seed=15, name="w").write_ogip(tmp_path)


def _drop_column(name):
    def edit(hdu):
        hdu.columns.del_col(name)

    return edit


@pytest.mark.parametrize(
    ("file", "hdu", "edit", "message"),
    [
        ("pha_w.fits", "SPECTRUM", lambda h: h.header.remove("BACKFILE"), "keyword 'BACKFILE'"),
        ("pha_w.fits", "SPECTRUM", lambda h: h.header.remove("EXPOSURE"), "keyword 'EXPOSURE'"),
        ("pha_w.fits", "SPECTRUM", _drop_column("COUNTS"), "column 'COUNTS' is missing"),
        ("rmf_w.fits", "MATRIX", _drop_column("N_GRP"), "rmf_w.fits[MATRIX]: column 'N_GRP'"),
        ("arf_w.fits", "SPECRESP", _drop_column("SPECRESP"), "column 'SPECRESP' is missing"),
        (
            "pha_w.fits",
            "SPECTRUM",
            lambda h: h.data.__setitem__("AREASCAL", 2.0),
            "AREASCAL != 1 in the ON spectrum",
        ),
        (
            "rmf_w.fits",
            "MATRIX",
            lambda h: h.header.__setitem__("HDUCLAS3", "FULL"),
            "only redistribution matrices",
        ),
        (
            "pha_w.fits",
            "SPECTRUM",
            lambda h: h.data.__setitem__("CHANNEL", h.data["CHANNEL"] + 5),
            "CHANNEL must list channels 0..11",
        ),
        (
            "rmf_w.fits",
            "MATRIX",
            lambda h: h.header.__setitem__("TLMIN4", 3),
            "do not fit 12 channels",
        ),
    ],
)
def test_bad_files_name_file_and_problem(written, file, hdu, edit, message):
    _rewrite(written.parent / file, hdu, edit)
    with pytest.raises(DataFormatError) as error:
        read_ogip(written)
    assert message in str(error.value)
    assert file in str(error.value)


def test_missing_files(written, tmp_path):
    with pytest.raises(
        DataFormatError, match=r"nothere.fits: file not found \(expected an OGIP PHA"
    ):
        read_ogip(tmp_path / "nothere.fits")
    (tmp_path / "arf_w.fits").unlink()
    with pytest.raises(DataFormatError, match=r"arf_w.fits: file not found \(expected an OGIP ARF"):
        read_ogip(written)
    (tmp_path / "junk.fits").write_text("junk")
    with pytest.raises(DataFormatError, match=r"junk.fits: not a readable FITS file.*OGIP PHA"):
        read_ogip(tmp_path / "junk.fits")


def independent_read(pha_path):
    """Totals and response from the raw columns, without gammarules."""
    folder = pha_path.parent
    with fits.open(pha_path) as hdul:
        on = hdul["SPECTRUM"]
        header = on.header
        good = on.data["QUALITY"] == 0
        counts = on.data["COUNTS"].astype(float)
        backscal_on = on.data["BACKSCAL"]
        livetime = header["EXPOSURE"]
    with fits.open(folder / header["BACKFILE"]) as hdul:
        n_off = hdul["SPECTRUM"].data["COUNTS"].astype(float)
        backscal_off = hdul["SPECTRUM"].data["BACKSCAL"]
    with fits.open(folder / header["ANCRFILE"]) as hdul:
        specresp = hdul["SPECRESP"].data["SPECRESP"].astype(float)
    with fits.open(folder / header["RESPFILE"]) as hdul:
        data = hdul["MATRIX"].data
        row_sums = np.array([np.sum(row["MATRIX"], dtype=float) for row in data])
    alpha = backscal_on / backscal_off
    return {
        "counts": counts[good].sum(),
        "counts_off": n_off[good].sum(),
        "excess": (counts - alpha * n_off)[good].sum(),
        "exposure": specresp * livetime,
        "row_sums": row_sums,
        "n_good": good.sum(),
        "livetime": livetime,
    }


@pytest.mark.data
@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_joint_crab_spectra(data_dir, instrument, tmp_path):
    paths = sorted((data_dir / "joint-crab" / "spectra" / instrument).glob("pha_obs*.fits"))
    assert len(paths) == INSTRUMENTS[instrument]
    for path in paths:
        dataset = read_ogip(path)
        expected = independent_read(path)
        info = dataset.info_dict()
        assert dataset.name == path.stem.removeprefix("pha_obs")
        assert info["counts"] == expected["counts"] > 0
        assert info["counts_off"] == expected["counts_off"] > 0
        assert info["excess"] == pytest.approx(expected["excess"], rel=1e-12)
        assert info["n_fit_bins"] == expected["n_good"]
        assert info["livetime_s"] == expected["livetime"]
        np.testing.assert_allclose(dataset.exposure.value, expected["exposure"], rtol=1e-15)
        np.testing.assert_allclose(dataset.edisp.sum(axis=1), expected["row_sums"], rtol=1e-6)

        read = read_ogip(dataset.write_ogip(tmp_path / path.stem))
        assert_round_trip(read, dataset, edisp=dataset.edisp)
