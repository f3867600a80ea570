"""Asimov power-law spectra (diagonal energy dispersion) for the flux point tests."""

import numpy as np
import pytest

from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.maps import MapAxis
from gammarules.models import Models, PowerLawSpectralModel, SkyModel


def power_law_counts(edges, exposure, index, amplitude, reference=1.0):
    """Expected counts per bin: exposure times the closed-form power-law integral."""
    lo, hi = edges[:-1] / reference, edges[1:] / reference
    return exposure * amplitude * reference * (hi ** (1 - index) - lo ** (1 - index)) / (1 - index)


class AsimovSpectrum:
    """Counts equal to the prediction of a power law (index 2.5, 1e-11 cm-2 s-1 TeV-1 at
    1 TeV) plus background, 8 bins per decade from 0.1 to 100 TeV.

    Above ``source_cut`` (TeV) the counts are the background alone. With ``alpha`` the
    dataset is on/off: ``n_on = signal + alpha * background``, ``n_off = background``.
    """

    index, amplitude = 2.5, 1e-11

    def __init__(self, exposure=3e13, background=5.0, source_cut=None, alpha=None, name="asimov"):
        n_bins = 24
        self.reco = MapAxis.from_energy_bounds(0.1, 100, n_bins, name="energy")
        true = MapAxis.from_energy_bounds(0.1, 100, n_bins, name="energy_true")
        self.edges = self.reco.edges_in("TeV")
        self.exposure = np.full(n_bins, exposure)
        self.background = np.full(n_bins, background)
        self.signal = power_law_counts(self.edges, self.exposure, self.index, self.amplitude)
        data_signal = self.signal.copy()
        if source_cut is not None:
            data_signal[self.edges[:-1] >= source_cut] = 0
        self.model = SkyModel(
            PowerLawSpectralModel(index=self.index, amplitude=self.amplitude, reference=1.0),
            name="source",
        )
        common = {
            "exposure": self.exposure,
            "edisp": np.eye(n_bins),
            "energy_axis": self.reco,
            "energy_axis_true": true,
            "livetime": 1e4,
            "name": name,
            "models": Models([self.model]),
        }
        if alpha is None:
            self.counts = data_signal + self.background
            self.dataset = SpectrumDataset(counts=self.counts, background=self.background, **common)
        else:
            self.alpha = alpha
            self.counts = data_signal + alpha * self.background
            self.dataset = SpectrumDatasetOnOff(
                counts=self.counts,
                counts_off=self.background,
                acceptance=np.ones(n_bins),
                acceptance_off=np.full(n_bins, 1 / alpha),
                **common,
            )

    def bins(self, e_min, e_max):
        """Mask of the reco bins inside [e_min, e_max]."""
        return (self.edges[:-1] >= e_min * (1 - 1e-9)) & (self.edges[1:] <= e_max * (1 + 1e-9))


@pytest.fixture
def asimov():
    """Factory of `AsimovSpectrum` objects."""
    return AsimovSpectrum
