import numpy as np
import pytest
from numpy.testing import assert_allclose

from gammarules.irf.interpolation import GridInterpolator

ENERGY = np.geomspace(0.1, 100, 7)
OFFSET = np.array([0.0, 0.5, 1.5, 2.5])


def bilinear(energy, offset):
    """Bilinear in (log E, offset): reproduced exactly by multilinear interpolation."""
    x = np.log(energy)
    return 3.0 + 2.0 * x - 0.7 * offset + 0.4 * x * offset


def make(values=None, bounds=None, **kwargs):
    grid = np.meshgrid(ENERGY, OFFSET, indexing="ij")
    values = bilinear(*grid) if values is None else values
    bounds = bounds or [(ENERGY[0], ENERGY[-1]), (OFFSET[0], OFFSET[-1])]
    return GridInterpolator([ENERGY, OFFSET], values, ["log", "lin"], bounds, **kwargs)


def test_exact_for_bilinear_function_and_broadcasts():
    rng = np.random.default_rng(1)
    energy = np.exp(rng.uniform(np.log(0.1), np.log(100), (50, 1)))
    offset = rng.uniform(0, 2.5, (1, 30))
    result = make()(energy, offset)
    assert result.shape == (50, 30)
    assert_allclose(result, bilinear(energy, offset), rtol=1e-12)


def test_clip_to_nodes_and_linear_extrapolation_to_bounds():
    interp = make(bounds=[(ENERGY[0], ENERGY[-1]), (-1.0, 3.0)])
    # energy beyond the nodes: value at the outer node
    assert_allclose(interp(1e4, 1.0), bilinear(100, 1.0))
    assert_allclose(interp(1e-3, 1.0), bilinear(0.1, 1.0))
    # offset: linear extrapolation up to the bound, then constant
    assert_allclose(interp(1.0, 2.8), bilinear(1.0, 2.8))
    assert_allclose(interp(1.0, 7.0), bilinear(1.0, 3.0))


def test_log_values_reproduce_power_law():
    grid = np.meshgrid(ENERGY, OFFSET, indexing="ij")
    values = 5.0 * grid[0] ** -2.7 * np.exp(-0.3 * grid[1])
    interp = make(values, values_scale="log")
    energy = np.array([0.13, 1.7, 42.0])
    assert_allclose(interp(energy, 1.1), 5.0 * energy**-2.7 * np.exp(-0.33), rtol=1e-12)


def test_log_values_keep_zeros():
    values = np.ones((ENERGY.size, OFFSET.size))
    values[3] = 0.0
    interp = make(values, values_scale="log")
    assert interp(ENERGY[3], 0.7) == 0.0
    assert interp(np.sqrt(ENERGY[3] * ENERGY[4]), 0.7) < 1e-200
    assert_allclose(interp(ENERGY[5], 0.7), 1.0)


def test_single_node_axis_is_constant():
    interp = GridInterpolator([np.array([0.4])], np.array([2.5]), ["lin"], [(0.4, 0.4)])
    assert_allclose(interp(np.array([0.0, 0.4, 3.0])), 2.5)


def test_extra_value_dimensions():
    grid = np.meshgrid(ENERGY, OFFSET, indexing="ij")
    values = np.stack([bilinear(*grid), 2 * bilinear(*grid)], axis=-1)
    result = make(values)([1.0, 3.0], 0.7)
    assert result.shape == (2, 2)
    assert_allclose(result[:, 1], 2 * bilinear(np.array([1.0, 3.0]), 0.7))


def test_invalid_nodes_are_left_out():
    values = np.full((ENERGY.size, OFFSET.size), 4.0)
    values[2] = 0.0  # a node row without data
    valid = np.ones(values.shape, dtype=bool)
    valid[2] = False
    interp = make(values, valid=valid)
    between = np.sqrt(ENERGY[2] * ENERGY[3])
    assert_allclose(interp(between, 1.0), 4.0)
    assert interp(ENERGY[2], 1.0) == 0.0  # no valid corner at all
    assert_allclose(make(values)(between, 1.0), 2.0)  # without the flags it dilutes


def test_wrong_number_of_coordinates():
    with pytest.raises(ValueError, match="expected 2 coordinate arrays"):
        make()(1.0)
