import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.time import Time

from gammarules.data import GTI, TimeReference
from gammarules.errors import DataFormatError

REF = TimeReference(epoch=Time(55000.5, format="mjd", scale="tt"))


def covered(starts, stops, grid):
    """Brute force: which grid times fall inside any [start, stop)."""
    inside = np.zeros(len(grid), dtype=bool)
    for start, stop in zip(starts, stops, strict=True):
        inside |= (grid >= start) & (grid < stop)
    return inside


def random_gti(rng, n, ref=REF):
    starts = np.sort(rng.uniform(0, 1000, n))
    return GTI(starts, starts + rng.uniform(1, 80, n), ref)


def test_read_gti_file(dl3):
    path = dl3.write_file("gti.fits.gz", [dl3.gti_hdu([1000.0, 1600.0], [1500.0, 2800.0])])
    gti = GTI.read(path)
    assert len(gti) == 2
    np.testing.assert_array_equal(gti.met_start, [1000.0, 1600.0])
    np.testing.assert_array_equal(gti.met_stop, [1500.0, 2800.0])
    assert gti.time_sum.unit == u.s and gti.time_sum.value == pytest.approx(1700.0)
    expected = 55000.5 + np.array([1000.0, 1600.0]) / 86400
    np.testing.assert_allclose((gti.time_start.tt.mjd - expected) * 86400, 0, atol=1e-6)
    assert gti.time_stop.scale == "tt"
    assert gti.meta["TIMESYS"] == "TT"


def test_gti_columns_without_units_use_timeunit(dl3):
    hdu = fits.BinTableHDU(Table({"START": [1.0], "STOP": [2.0]}), name="GTI")
    hdu.header.update({"MJDREFI": 55000, "MJDREFF": 0.5, "TIMESYS": "TT", "TIMEUNIT": "d"})
    gti = GTI.read(dl3.write_file("gti_days.fits", [hdu]))
    assert gti.met_start[0] == 86400.0 and gti.time_sum.value == pytest.approx(86400.0)


@pytest.mark.parametrize(
    ("make_hdu", "message"),
    [
        (lambda dl3: dl3.gti_hdu([1.0], [2.0], header={"MJDREFI": None}), "MJDREFI"),
        (lambda dl3: dl3.gti_hdu(np.zeros(0), np.zeros(0)), "empty GTI"),
        (lambda dl3: dl3.gti_hdu([5.0], [2.0]), "STOP < START"),
        (
            lambda dl3: fits.BinTableHDU.from_columns([fits.Column("START", "D")], name="GTI"),
            "STOP",
        ),
    ],
)
def test_bad_gti_hdu(dl3, make_hdu, message):
    path = dl3.write_file("bad_gti.fits", [make_hdu(dl3)])
    with pytest.raises(DataFormatError, match=message) as info:
        GTI.read(path)
    assert str(path) in str(info.value) and "GTI" in str(info.value)


def test_missing_gti_hdu_names_the_hdus_present(dl3):
    path = dl3.write_file("no_gti.fits", [dl3.gti_hdu([1.0], [2.0], name="OTHER")])
    with pytest.raises(DataFormatError, match="no HDU 'GTI'.*OTHER"):
        GTI.read(path)


def test_select_time_clips_and_drops():
    gti = GTI([0.0, 100.0, 300.0], [50.0, 200.0, 400.0], REF)
    selected = gti.select_time(REF.to_time(20.0), REF.to_time(150.0))
    np.testing.assert_allclose(selected.met_start, [20.0, 100.0])
    np.testing.assert_allclose(selected.met_stop, [50.0, 150.0])
    assert selected.time_sum.value == pytest.approx(80.0)


def test_union_merges_overlapping_and_touching_intervals():
    a = GTI([0.0, 30.0, 100.0], [10.0, 40.0, 110.0], REF)
    b = GTI([5.0, 40.0, 200.0], [20.0, 50.0, 210.0], REF)
    union = a.union(b)
    np.testing.assert_allclose(union.met_start, [0.0, 30.0, 100.0, 200.0])
    np.testing.assert_allclose(union.met_stop, [20.0, 50.0, 110.0, 210.0])


def test_union_and_intersection_match_brute_force():
    rng = np.random.default_rng(1)
    grid = np.arange(0, 1100, 0.25) + 0.125
    for _ in range(20):
        a, b = random_gti(rng, 15), random_gti(rng, 12)
        in_a = covered(a.met_start, a.met_stop, grid)
        in_b = covered(b.met_start, b.met_stop, grid)
        union, inter = a.union(b), a.intersection(b)
        np.testing.assert_array_equal(covered(union.met_start, union.met_stop, grid), in_a | in_b)
        np.testing.assert_array_equal(covered(inter.met_start, inter.met_stop, grid), in_a & in_b)
        for result in (union, inter):
            assert np.all(np.diff(result.met_start) > 0)
            assert np.all(result.met_start[1:] > result.met_stop[:-1])


def test_operations_across_time_references():
    # Same instants expressed with another epoch (one day later) and in UTC.
    utc_ref = TimeReference(epoch=(REF.epoch + 1 * u.d).utc)
    a = GTI([0.0, 1000.0], [500.0, 2000.0], REF)
    b = GTI([400.0 - 86400.0], [1200.0 - 86400.0], utc_ref)
    inter = a.intersection(b)
    np.testing.assert_allclose(inter.met_start, [400.0, 1000.0], atol=1e-6)
    np.testing.assert_allclose(inter.met_stop, [500.0, 1200.0], atol=1e-6)
    union = a.union(b)
    np.testing.assert_allclose(union.met_start, [0.0], atol=1e-6)
    np.testing.assert_allclose(union.met_stop, [2000.0], atol=1e-6)
    assert union.time_ref is REF


def test_disjoint_intersection_is_empty():
    inter = GTI([0.0], [10.0], REF).intersection(GTI([10.0], [20.0], REF))
    assert len(inter) == 0 and inter.time_sum.value == 0


def test_from_time_intervals():
    start = Time(["2020-01-01T00:00:00", "2020-01-02T00:00:00"], scale="utc")
    gti = GTI.from_time_intervals(start, start + 1 * u.h)
    assert gti.time_sum.to_value(u.h) == pytest.approx(2.0)
    assert gti.met_start[0] == 0.0 and gti.met_start[1] == pytest.approx(86400.0)
    assert (gti.time_stop[1] - start[1]).to_value(u.s) == pytest.approx(3600.0)


def test_invalid_intervals_rejected():
    with pytest.raises(DataFormatError, match="STOP < START"):
        GTI([10.0], [0.0], REF)
    with pytest.raises(DataFormatError, match="equal length"):
        GTI([0.0, 1.0], [2.0], REF)
