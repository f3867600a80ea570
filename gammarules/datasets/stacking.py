"""Stacking spectrum datasets into one, conserving counts, background and predicted counts.

For datasets d with safe masks m_d (reco bins), exposures e_d (true bins) and kernels K_d:

- counts = sum_d m_d counts_d; background (SpectrumDataset) = sum_d m_d background_d, so
  bins outside a dataset's safe range contribute nothing.
- exposure = sum_d e_d over the datasets that have at least one safe bin; livetime is the
  sum of their livetimes.
- edisp = sum_d e_d K_d m_d / exposure (exposure-weighted mean of the kernels with the reco
  bins outside each safe range zeroed). Then for any model, the stacked ``npred_signal``
  equals sum_d m_d npred_signal_d exactly.
- mask_safe = OR of the safe masks; mask_fit is not stacked (all bins; set it afterwards);
  models are not carried over.
- ON/OFF: counts_off = sum_d m_d counts_off_d and the background per bin,
  sum_d m_d alpha_d counts_off_d, is conserved: the stacked alpha is that sum divided by
  the stacked counts_off. Where the stacked counts_off is 0, alpha is the ratio of the
  livetime-weighted acceptances, sum_d T_d acceptance_d / sum_d T_d acceptance_off_d, over
  the datasets whose safe range holds the bin (over all datasets if none does): the ON/OFF
  ratio of expected counts for a background rate that is the same in every dataset.
  It is stored as acceptance = 1, acceptance_off = 1 / alpha (acceptance = 0,
  acceptance_off = 1 where alpha is 0).
- meta = {"stacked_from": [names]} plus the meta entries all datasets share.
"""

from __future__ import annotations

import numpy as np

from gammarules.datasets.spectrum import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.errors import GammarulesError

__all__ = ["stack"]


def _check_compatible(datasets):
    first = datasets[0]
    if not isinstance(first, SpectrumDataset):
        raise GammarulesError(f"stack: expected spectrum datasets, got {type(first).__name__}")
    for dataset in datasets[1:]:
        if type(dataset) is not type(first):
            raise GammarulesError(
                f"stack: cannot stack {type(dataset).__name__} '{dataset.name}' with "
                f"{type(first).__name__} '{first.name}'"
            )
        for attr in ("energy_axis", "energy_axis_true"):
            if getattr(dataset, attr) != getattr(first, attr):
                raise GammarulesError(
                    f"stack: dataset '{dataset.name}' has a different {attr} than '{first.name}'"
                )
    if not isinstance(first, SpectrumDatasetOnOff):
        has_background = {d.background is not None for d in datasets}
        if len(has_background) > 1:
            raise GammarulesError("stack: some datasets have a background and others do not")


def _shared_meta(datasets):
    first = datasets[0].meta
    shared = {
        key: value
        for key, value in first.items()
        if all(key in d.meta and d.meta[key] == value for d in datasets[1:])
    }
    shared["stacked_from"] = [d.name for d in datasets]
    return shared


def _stacked_alpha(datasets, masks, counts_off):
    background = sum(m * d.alpha * d.counts_off for d, m in zip(datasets, masks, strict=True))
    livetimes = np.array([[d.livetime.to_value("s")] for d in datasets])
    weights = np.array(masks)
    weights[:, ~weights.any(axis=0)] = True
    on = (weights * livetimes * np.array([d.acceptance for d in datasets])).sum(axis=0)
    off = (weights * livetimes * np.array([d.acceptance_off for d in datasets])).sum(axis=0)
    fallback = np.divide(on, off, out=np.zeros_like(on), where=off > 0)
    has_off = counts_off > 0
    return np.where(has_off, background / np.where(has_off, counts_off, 1.0), fallback)


def stack(datasets, name="stacked"):
    """Stack spectrum datasets of one type and binning into a new dataset (see module doc)."""
    datasets = list(datasets)
    if not datasets:
        raise GammarulesError("stack: no datasets given")
    _check_compatible(datasets)
    first = datasets[0]
    masks = [d.mask_safe for d in datasets]
    used = [bool(m.any()) for m in masks]

    exposure = sum(d.exposure.to_value("cm2 s") * w for d, w in zip(datasets, used, strict=True))
    weighted_kernel = sum(
        w * d.exposure.to_value("cm2 s")[:, None] * d.edisp * m[None, :]
        for d, m, w in zip(datasets, masks, used, strict=True)
    )
    edisp = np.divide(
        weighted_kernel,
        exposure[:, None],
        out=np.zeros_like(weighted_kernel),
        where=exposure[:, None] > 0,
    )
    livetime = sum(d.livetime.to_value("s") for d, w in zip(datasets, used, strict=True) if w)
    common = dict(
        counts=sum(m * d.counts for d, m in zip(datasets, masks, strict=True)),
        exposure=exposure,
        edisp=edisp,
        energy_axis=first.energy_axis,
        energy_axis_true=first.energy_axis_true,
        livetime=livetime,
        mask_safe=np.logical_or.reduce(masks),
        name=name,
        meta=_shared_meta(datasets),
    )
    if isinstance(first, SpectrumDatasetOnOff):
        counts_off = sum(m * d.counts_off for d, m in zip(datasets, masks, strict=True))
        alpha = _stacked_alpha(datasets, masks, counts_off)
        positive = alpha > 0
        acceptance_off = np.divide(1.0, alpha, out=np.ones_like(alpha), where=positive)
        return SpectrumDatasetOnOff(
            counts_off=counts_off,
            acceptance=positive.astype(float),
            acceptance_off=acceptance_off,
            **common,
        )
    background = None
    if first.background is not None:
        background = sum(m * d.background for d, m in zip(datasets, masks, strict=True))
    return SpectrumDataset(background=background, **common)
