"""MapAxis: edges and centres, energy bounds, bin lookup, derived axes, errors."""

import math

import numpy as np
import pytest
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.maps import MapAxis


def test_log_axis_edges_and_centres():
    axis = MapAxis([1, 4, 16], name="energy_true", unit="TeV")
    assert axis.nbin == len(axis) == 2
    assert axis.unit == u.TeV
    np.testing.assert_allclose(axis.center.to_value("TeV"), [2, 8], rtol=1e-14)
    np.testing.assert_allclose(axis.center_in("GeV"), [2000, 8000], rtol=1e-14)
    np.testing.assert_allclose(axis.edges_in("GeV"), [1000, 4000, 16000], rtol=1e-14)
    np.testing.assert_allclose(axis.edges_min.to_value("TeV"), [1, 4])
    np.testing.assert_allclose(axis.edges_max.to_value("TeV"), [4, 16])
    np.testing.assert_allclose(axis.bin_width.to_value("TeV"), [3, 12])


def test_linear_axis_centres_are_arithmetic_means():
    axis = MapAxis([0.0, 1.0, 3.0], name="offset", unit="deg", interp="lin")
    np.testing.assert_allclose(axis.center.to_value("deg"), [0.5, 2.0])
    np.testing.assert_allclose(axis.center_in("arcmin"), [30.0, 120.0])


def test_quantity_edges_keep_or_convert_their_unit():
    assert MapAxis([1, 2, 3] * u.TeV).unit == u.TeV
    converted = MapAxis([1, 2, 3] * u.TeV, unit="GeV")
    assert converted.unit == u.GeV
    np.testing.assert_allclose(converted.edges.value, [1000, 2000, 3000])


@pytest.mark.parametrize(
    ("emin", "emax", "per_decade", "expected"),
    [(0.1, 40, 10, 27), (0.05, 100, 20, 67), (1, 100, 5, 10)],
)
def test_from_energy_bounds_per_decade(emin, emax, per_decade, expected):
    # bins per decade times decades, rounded up to a whole bin
    assert math.ceil(math.log10(emax / emin) * per_decade) == expected
    axis = MapAxis.from_energy_bounds(emin, emax, per_decade, per_decade=True, name="energy_true")
    assert axis.nbin == expected
    assert axis.name == "energy_true"
    edges = axis.edges_in("TeV")
    np.testing.assert_allclose(edges[[0, -1]], [emin, emax], rtol=1e-14)
    ratios = edges[1:] / edges[:-1]
    np.testing.assert_allclose(ratios, (emax / emin) ** (1 / expected), rtol=1e-12)


def test_from_energy_bounds_total_bins_and_units():
    axis = MapAxis.from_energy_bounds(100 * u.GeV, 10 * u.TeV, 4)
    assert (axis.nbin, axis.unit, axis.name, axis.interp) == (4, u.TeV, "energy", "log")
    np.testing.assert_allclose(axis.edges_in("TeV"), np.logspace(-1, 1, 5), rtol=1e-14)
    np.testing.assert_allclose(axis.center_in("TeV"), np.logspace(-0.75, 0.75, 4), rtol=1e-14)


def test_coord_to_idx_right_open_bins_and_outside():
    axis = MapAxis([1, 2, 4], unit="TeV")
    coords = u.Quantity([1.0, 1.999, 2.0, 3.9, 4.0, 0.99, 5.0, np.nan], "TeV")
    np.testing.assert_array_equal(axis.coord_to_idx(coords), [0, 0, 1, 1, -1, -1, -1, -1])
    # coordinates in another unit are converted
    np.testing.assert_array_equal(axis.coord_to_idx([999, 1000, 2500] * u.GeV), [-1, 0, 1])


def test_slice_squash_rename_keep_unit_and_interp():
    axis = MapAxis([0.0, 1.0, 2.0, 4.0, 8.0, 9.0], name="offset", unit="deg", interp="lin")
    sliced = axis.slice(1, 3)
    np.testing.assert_array_equal(sliced.edges.to_value("deg"), [1.0, 2.0, 4.0])
    assert (sliced.name, sliced.unit, sliced.interp) == ("offset", u.deg, "lin")

    squashed = axis.squash()
    np.testing.assert_array_equal(squashed.edges.to_value("deg"), [0.0, 9.0])
    assert (squashed.nbin, squashed.unit, squashed.interp) == (1, u.deg, "lin")
    np.testing.assert_allclose(squashed.center.to_value("deg"), [4.5])

    renamed = axis.rename("rad")
    assert renamed.name == "rad" and renamed.unit == u.deg and renamed.interp == "lin"
    np.testing.assert_array_equal(renamed.edges, axis.edges)


def test_equality_across_units_and_names():
    tev = MapAxis([1, 10, 100], name="energy", unit="TeV")
    gev = MapAxis([1000, 10000, 100000], name="energy", unit="GeV")
    assert tev == gev and hash(tev) == hash(gev)
    assert tev != tev.rename("energy_true")
    assert tev != MapAxis([1, 10, 101], name="energy", unit="TeV")
    assert tev != MapAxis([1, 10, 100], name="energy", unit="deg")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"edges": [1.0]}, "at least two bin edges"),
        ({"edges": [[1.0, 2.0], [3.0, 4.0]]}, "at least two bin edges"),
        ({"edges": [1.0, 3.0, 2.0]}, "increase strictly"),
        ({"edges": [1.0, 1.0, 2.0]}, "increase strictly"),
        ({"edges": [1.0, 2.0], "interp": "sqrt"}, "interp must be"),
        ({"edges": [0.0, 1.0, 2.0]}, "log axis needs positive edges"),
    ],
)
def test_invalid_axes_name_the_axis(kwargs, message):
    with pytest.raises(GammarulesError, match=message) as info:
        MapAxis(name="energy_true", unit="TeV", **kwargs)
    assert "energy_true" in str(info.value)


def test_node_axis_keeps_its_nodes():
    nodes = [0.5, 1.0, 3.0, 10.0] * u.TeV
    axis = MapAxis.from_nodes(nodes, name="energy_true")
    assert axis.node_type == "center" and axis.nbin == 4
    np.testing.assert_array_equal(axis.center.value, nodes.value)
    # edges at the geometric midpoints, mirrored at the ends
    np.testing.assert_allclose(axis.edges.value[1:-1], np.sqrt(nodes.value[1:] * nodes.value[:-1]))
    np.testing.assert_allclose(axis.edges.value[0], 0.5 / np.sqrt(2))
    part = axis.slice(1, 2)
    assert part.node_type == "center" and part.center.value.tolist() == [1.0]
    assert axis != MapAxis(axis.edges, name="energy_true")
    with pytest.raises(GammarulesError, match="two nodes"):
        MapAxis.from_nodes([1.0] * u.TeV)
