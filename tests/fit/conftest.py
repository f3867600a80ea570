"""Synthetic power-law spectra with a diagonal energy dispersion and their Fisher matrices."""

import numpy as np
import pytest

from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.maps import MapAxis
from gammarules.models import Models, PowerLawSpectralModel, SkyModel

TRUE_INDEX = 2.5
TRUE_AMPLITUDE = 1e-11  # cm-2 s-1 TeV-1 at 1 TeV


def power_law_counts(edges, exposure, index, amplitude, reference=1.0):
    """Expected counts per bin: exposure times the closed-form power-law integral."""
    lo, hi = edges[:-1] / reference, edges[1:] / reference
    return exposure * amplitude * reference * (hi ** (1 - index) - lo ** (1 - index)) / (1 - index)


def fisher_matrix(signal, total, theta, step=1e-6):
    """Poisson Fisher matrix sum_bins dmu_i dmu_j / mu, with central-difference derivatives.

    ``signal(theta)`` returns the predicted signal counts; ``total`` the predicted counts at
    the true ``theta`` (the Asimov counts).
    """
    theta = np.asarray(theta, dtype=float)
    grads = []
    for i in range(theta.size):
        h = step * abs(theta[i])
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        grads.append((signal(up) - signal(down)) / (2 * h))
    grads = np.array(grads)
    return (grads / total) @ grads.T


def power_law_model(index=2.0, amplitude=2e-11, name="source"):
    spectral = PowerLawSpectralModel(index=index, amplitude=amplitude, reference=1.0)
    return SkyModel(spectral, name=name)


class AsimovSpectrum:
    """A Cash dataset whose counts equal the power-law prediction plus background exactly."""

    TRUE_INDEX = TRUE_INDEX
    TRUE_AMPLITUDE = TRUE_AMPLITUDE

    def __init__(self, n_bins=20, exposure=3e13, background=5.0, name="asimov"):
        self.reco = MapAxis.from_energy_bounds(0.1, 100, n_bins, name="energy")
        true = MapAxis.from_energy_bounds(0.1, 100, n_bins, name="energy_true")
        self.edges = self.reco.edges_in("TeV")
        self.exposure = np.full(n_bins, exposure)
        self.background = np.full(n_bins, background)
        self.signal_true = self.signal((TRUE_INDEX, TRUE_AMPLITUDE))
        self.counts = self.signal_true + self.background
        self.dataset = SpectrumDataset(
            counts=self.counts,
            exposure=self.exposure,
            edisp=np.eye(n_bins),
            energy_axis=self.reco,
            energy_axis_true=true,
            livetime=1e4,
            background=self.background,
            name=name,
        )

    def signal(self, theta):
        return power_law_counts(self.edges, self.exposure, *theta)

    def fisher(self):
        return fisher_matrix(self.signal, self.counts, (TRUE_INDEX, TRUE_AMPLITUDE))


@pytest.fixture
def asimov():
    """Factory of `AsimovSpectrum` objects."""
    return AsimovSpectrum


@pytest.fixture
def asimov_onoff():
    """An on/off Asimov dataset: n_on = signal + alpha * b, n_off = b; and its Fisher matrix
    for (index, amplitude) with the per-bin background profiled out (Schur complement)."""
    n_bins, alpha = 16, 0.2
    reco = MapAxis.from_energy_bounds(0.3, 30, n_bins, name="energy")
    true = MapAxis.from_energy_bounds(0.3, 30, n_bins, name="energy_true")
    edges, exposure = reco.edges_in("TeV"), np.full(n_bins, 1e14)
    b = np.geomspace(4000, 200, n_bins)

    def signal(theta):
        return power_law_counts(edges, exposure, *theta)

    s = signal((TRUE_INDEX, TRUE_AMPLITUDE))
    dataset = SpectrumDatasetOnOff(
        counts=s + alpha * b,
        exposure=exposure,
        edisp=np.eye(n_bins),
        energy_axis=reco,
        energy_axis_true=true,
        livetime=1e4,
        counts_off=b,
        acceptance=np.ones(n_bins),
        acceptance_off=np.full(n_bins, 1 / alpha),
        name="onoff",
    )
    mu_on = s + alpha * b
    # Fisher over (theta, b_i): the on term gives (ds, alpha)(ds, alpha)^T / mu_on, the off
    # term 1 / b for b_i; eliminating b_i leaves weight 1/mu_on - (alpha/mu_on)^2 / f_bb.
    f_bb = alpha**2 / mu_on + 1 / b
    weight = 1 / mu_on - (alpha / mu_on) ** 2 / f_bb
    theta = np.array([TRUE_INDEX, TRUE_AMPLITUDE])
    fisher = fisher_matrix(signal, 1 / weight, theta)
    return dataset, fisher


@pytest.fixture
def make_model():
    """Factory of one-power-law sky models."""
    return power_law_model


@pytest.fixture
def models():
    """A `Models` with one power law started away from the truth."""
    return Models([power_law_model()])
