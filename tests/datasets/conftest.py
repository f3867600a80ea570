"""Synthetic spectrum datasets built inside the tests."""

import numpy as np
import pytest
from astropy import units as u
from scipy.stats import norm

from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.maps import MapAxis
from gammarules.models import PowerLawSpectralModel, SkyModel


def energy_axes(n_reco=12, n_true=18):
    reco = MapAxis.from_energy_bounds(0.1, 100, n_reco, unit="TeV", name="energy")
    true = MapAxis.from_energy_bounds(0.05, 200, n_true, unit="TeV", name="energy_true")
    return reco, true


def log_normal_kernel(true_axis, reco_axis, sigma=0.08):
    """Probability that an event at the true bin centre lands in each reco bin."""
    centre = np.log10(true_axis.center_in("TeV"))[:, None]
    edges = np.log10(reco_axis.edges_in("TeV"))[None, :]
    cdf = norm.cdf(edges, loc=centre, scale=sigma)
    return np.diff(cdf, axis=1)


def exposure_values(true_axis, livetime_s, area_cm2=2e9, threshold_tev=0.3):
    energy = true_axis.center_in("TeV")
    return livetime_s * area_cm2 * (1 - np.exp(-energy / threshold_tev))


def _make_onoff(seed=0, livetime_s=1800.0, n_off_regions=5, safe=slice(2, 11), name="obs-1"):
    rng = np.random.default_rng(seed)
    reco, true = energy_axes()
    mask = np.zeros(reco.nbin, dtype=bool)
    mask[safe] = True
    acceptance_off = np.full(reco.nbin, float(n_off_regions))
    acceptance_off[-1] = n_off_regions + 2.0
    return SpectrumDatasetOnOff(
        counts=rng.poisson(20, reco.nbin),
        exposure=exposure_values(true, livetime_s),
        edisp=log_normal_kernel(true, reco),
        energy_axis=reco,
        energy_axis_true=true,
        livetime=livetime_s,
        counts_off=rng.poisson(40, reco.nbin),
        acceptance_off=acceptance_off,
        mask_safe=mask,
        name=name,
        meta={"obs_id": seed},
    )


def _make_cash(seed=0, livetime_s=1200.0, safe=slice(1, 10), name="cash-1"):
    rng = np.random.default_rng(seed)
    reco, true = energy_axes()
    mask = np.zeros(reco.nbin, dtype=bool)
    mask[safe] = True
    return SpectrumDataset(
        counts=rng.poisson(15, reco.nbin),
        exposure=exposure_values(true, livetime_s),
        edisp=log_normal_kernel(true, reco),
        energy_axis=reco,
        energy_axis_true=true,
        livetime=livetime_s,
        background=rng.uniform(2, 6, reco.nbin),
        mask_safe=mask,
        name=name,
    )


@pytest.fixture
def make_onoff():
    """Factory of synthetic ON/OFF datasets (Poisson counts drawn with a fixed seed)."""
    return _make_onoff


@pytest.fixture
def make_cash():
    """Factory of synthetic Cash datasets with a known background."""
    return _make_cash


def _sky_model(index=2.4, amplitude=3e-11, reference=1.0, datasets_names=None, name="src"):
    """Power law dN/dE = amplitude (E / reference)^-index [TeV-1 cm-2 s-1], E in TeV."""
    spectral = PowerLawSpectralModel(
        index=index,
        amplitude=amplitude * u.Unit("TeV-1 cm-2 s-1"),
        reference=reference * u.TeV,
    )
    return SkyModel(spectral, name=name, datasets_names=datasets_names)


def _power_law_dnde(energy, index=2.4, amplitude=3e-11, reference=1.0):
    return amplitude * (energy / reference) ** -index


@pytest.fixture
def sky_model():
    """Factory of power-law sky models (E in TeV, amplitude in TeV-1 cm-2 s-1)."""
    return _sky_model


@pytest.fixture
def power_law_dnde():
    """The same power law evaluated directly, for independent integrals."""
    return _power_law_dnde
