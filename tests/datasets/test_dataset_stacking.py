"""Stacking spectrum datasets: counts, background and predicted counts are conserved."""

import numpy as np
import pytest

from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff, read_ogip, stack
from gammarules.errors import GammarulesError
from gammarules.maps import MapAxis


@pytest.fixture
def three_onoff(make_onoff):
    return [
        make_onoff(seed=1, livetime_s=1000.0, n_off_regions=3, safe=slice(1, 8), name="a"),
        make_onoff(seed=2, livetime_s=1500.0, n_off_regions=6, safe=slice(4, 12), name="b"),
        make_onoff(seed=3, livetime_s=500.0, n_off_regions=10, safe=slice(2, 10), name="c"),
    ]


def test_onoff_stack_conserves_counts_and_excess(three_onoff):
    stacked = stack(three_onoff)
    masks = [d.mask_safe for d in three_onoff]
    np.testing.assert_array_equal(
        stacked.counts, sum(m * d.counts for d, m in zip(three_onoff, masks, strict=True))
    )
    np.testing.assert_array_equal(
        stacked.counts_off, sum(m * d.counts_off for d, m in zip(three_onoff, masks, strict=True))
    )
    excess = sum(
        m * (d.counts - d.alpha * d.counts_off) for d, m in zip(three_onoff, masks, strict=True)
    )
    np.testing.assert_allclose(stacked.excess, excess, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(stacked.mask_safe, masks[0] | masks[1] | masks[2])
    assert stacked.livetime.to_value("s") == 3000.0
    assert stacked.name == "stacked"
    assert stacked.meta["stacked_from"] == ["a", "b", "c"]

    total = sum(d.info_dict()["excess"] for d in three_onoff)
    assert stacked.info_dict()["excess"] == pytest.approx(total, rel=1e-12)
    total_counts = sum(d.info_dict()["counts"] for d in three_onoff)
    assert stacked.info_dict()["counts"] == total_counts


def test_onoff_stack_alpha_where_no_off_counts(three_onoff):
    a, b, c = three_onoff
    for dataset in three_onoff:
        dataset.counts_off[5] = 0
    stacked = stack(three_onoff)
    # bin 5 is safe in all three: ratio of livetime-weighted acceptances
    expected = (1000 + 1500 + 500) / (1000 * 3 + 1500 * 6 + 500 * 10)
    assert stacked.counts_off[5] == 0
    assert stacked.alpha[5] == pytest.approx(expected, rel=1e-14)
    # bin 0 is outside every safe range: all datasets enter the ratio
    assert stacked.counts_off[0] == 0
    assert stacked.alpha[0] == pytest.approx(expected, rel=1e-14)
    # bin 11 (safe only in b, which has n_off > 0 there): background conserved
    assert stacked.alpha[11] == pytest.approx(b.alpha[11], rel=1e-14)
    np.testing.assert_array_equal(stacked.acceptance[stacked.alpha > 0], 1.0)


def test_stacked_npred_equals_sum_of_masked_npred(three_onoff, sky_model):
    model = sky_model(amplitude=2e-11, index=2.6)
    for dataset in three_onoff:
        dataset.models = [model]
    stacked = stack(three_onoff)
    stacked.models = [model]
    expected = sum(d.mask_safe * d.npred_signal() for d in three_onoff)
    assert np.all(expected[stacked.mask_safe] > 0)
    np.testing.assert_allclose(stacked.npred_signal(), expected, rtol=1e-12)
    exposure = sum(d.exposure for d in three_onoff)
    np.testing.assert_allclose(stacked.exposure.value, exposure.value, rtol=1e-15)


def test_cash_stack_conserves_background(make_cash, sky_model):
    datasets = [
        make_cash(seed=4, safe=slice(0, 6), name="x"),
        make_cash(seed=5, safe=slice(3, 12), name="y"),
    ]
    model = sky_model()
    stacked = datasets[0].stack(datasets[1])
    assert stacked.name == "x"
    for dataset in [*datasets, stacked]:
        dataset.models = [model]
    masks = [d.mask_safe for d in datasets]
    np.testing.assert_allclose(
        stacked.background, sum(m * d.background for d, m in zip(datasets, masks, strict=True))
    )
    np.testing.assert_allclose(
        stacked.npred(),
        sum(m * d.npred() for d, m in zip(datasets, masks, strict=True)),
        rtol=1e-12,
    )


def test_dataset_without_safe_bins_contributes_nothing(make_onoff):
    used = make_onoff(seed=6, livetime_s=800.0)
    unused = make_onoff(seed=7, livetime_s=900.0, safe=slice(0, 0))
    stacked = stack([used, unused])
    assert stacked.livetime.to_value("s") == 800.0
    np.testing.assert_array_equal(stacked.exposure, used.exposure)
    np.testing.assert_allclose(stacked.edisp, used.edisp * used.mask_safe, rtol=1e-15)
    np.testing.assert_array_equal(stacked.counts, used.counts * used.mask_safe)


def test_stack_keeps_shared_meta(make_onoff):
    first, second = make_onoff(seed=1), make_onoff(seed=2)
    first.meta.update(target="Crab", provenance={"config": "abc"})
    second.meta.update(target="Crab", provenance={"config": "abc"})
    meta = stack([first, second]).meta
    assert meta["target"] == "Crab" and meta["provenance"] == {"config": "abc"}
    assert "obs_id" not in meta


def test_stack_rejects_incompatible_datasets(make_onoff, make_cash):
    with pytest.raises(GammarulesError, match="no datasets"):
        stack([])
    with pytest.raises(GammarulesError, match="cannot stack SpectrumDataset 'cash-1'"):
        stack([make_onoff(), make_cash()])
    other = make_onoff()
    coarse = SpectrumDatasetOnOff(
        counts=other.counts[:6],
        exposure=other.exposure,
        edisp=other.edisp[:, :6],
        energy_axis=MapAxis(other.energy_axis.edges[:7], name="energy", unit="TeV"),
        energy_axis_true=other.energy_axis_true,
        livetime=other.livetime,
        counts_off=other.counts_off[:6],
        name="coarse",
    )
    with pytest.raises(GammarulesError, match="'coarse' has a different energy_axis"):
        stack([other, coarse])
    reference = make_cash()
    no_background = SpectrumDataset(
        counts=reference.counts,
        exposure=reference.exposure,
        edisp=reference.edisp,
        energy_axis=reference.energy_axis,
        energy_axis_true=reference.energy_axis_true,
        livetime=reference.livetime,
    )
    with pytest.raises(GammarulesError, match="some datasets have a background"):
        stack([make_cash(), no_background])


@pytest.mark.data
def test_stack_hess_joint_crab_runs(data_dir):
    paths = sorted((data_dir / "joint-crab" / "spectra" / "hess").glob("pha_obs*.fits"))
    assert len(paths) == 4
    datasets = [read_ogip(path) for path in paths]
    stacked = stack(datasets)
    infos = [d.info_dict() for d in datasets]
    info = stacked.info_dict()
    for key in ("counts", "counts_off", "background", "excess"):
        assert info[key] == pytest.approx(sum(i[key] for i in infos), rel=1e-12)
    assert info["livetime_s"] == pytest.approx(sum(i["livetime_s"] for i in infos), rel=1e-14)
    assert info["alpha"] == pytest.approx(info["background"] / info["counts_off"], rel=1e-14)
