"""3D (cube) analyses: H.E.S.S. Crab 3D, the CTA Galactic-Centre cube, the gammapy-benchmarks
``analysis_3d`` workload and an npred workload.

The data collection is ``$GAMMARULES_DATA`` (default /work/shared/data); the analysis
workloads read their DL3 files inside the timed part.
"""

import tempfile
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from bench_spectrum import REPO, data_dir
from registry import workload
from scipy.special import ndtr

from gammarules.analysis import map_3d
from gammarules.config import load_config
from gammarules.data import DataStore
from gammarules.datasets import MapDataset
from gammarules.estimators import FluxPointsEstimator
from gammarules.fit import Fit
from gammarules.makers.map import MapDatasetMaker
from gammarules.makers.safe_mask import SafeMaskMaker
from gammarules.maps import MapAxis, WcsGeom
from gammarules.models import (
    ExpCutoffPowerLawSpectralModel,
    GaussianSpatialModel,
    Models,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)

SCHEMA = REPO / "workflow" / "schemas" / "analysis.schema.yaml"


def _analysis(name):
    data = data_dir()
    config = load_config(REPO / "config" / "analyses" / f"{name}.yaml", SCHEMA)
    return lambda: map_3d.run(config, data)


@workload()
def hess_crab_3d():
    """H.E.S.S. Crab 3D analysis of config/analyses/hess_crab_3d.yaml, DL3 to residual maps."""
    return _analysis("hess_crab_3d")


@workload()
def cta_gc_cube():
    """CTA 1DC Galactic-Centre cube (config/analyses/cta_gc_cube.yaml): reduction, simulation,
    three-source fit and significance maps."""
    return _analysis("cta_gc_cube")


def gammapy_benchmarks_analysis_3d(datastore_dir, workdir, n_obs=10):
    """The steps of gammapy-benchmarks ``benchmarks/analysis_3d.py`` with gammarules.

    Followed from that script: CTA 1DC run 110380 read ``n_obs`` times; a 10 x 8 deg CAR
    Galactic map at 0.05 deg centred on (0, 0) with 10 log energy bins 0.1-10 TeV (the same
    axis for true energy); each observation reduced on the whole map (counts, exposure,
    background, PSF and edisp maps) with the safe mask ``offset-max`` 4 deg and stacked; the
    stacked dataset written and read back; a point source (0.01, 0.01 deg) with an
    exponential-cutoff power law (index 2, 3e-12 cm-2 s-1 TeV-1 at 1 TeV, lambda 0.1 TeV-1)
    fitted; flux points in 0.3-1-3-10 TeV.
    """
    store = DataStore.from_dir(datastore_dir)
    observations = [store.obs(110380) for _ in range(n_obs)]
    axis = MapAxis.from_energy_bounds(0.1, 10, 10)
    geom = WcsGeom.create(
        SkyCoord(0, 0, unit="deg", frame="galactic"),
        0.05,
        width=(10, 8),
        frame="galactic",
        axes=[axis],
    )
    stacked = MapDataset.create(geom, axis.rename("energy_true"), name="stacked")
    maker = MapDatasetMaker()
    safe = SafeMaskMaker(methods=["offset-max"], offset_max=4 * u.deg)
    for observation in observations:
        stacked.stack(safe.run(maker.run(stacked, observation), observation))
    path = Path(workdir) / "stacked.nc"
    stacked.write(path)
    stacked = MapDataset.read(path)
    spectral = ExpCutoffPowerLawSpectralModel(
        index=2, amplitude="3e-12 cm-2 s-1 TeV-1", reference="1 TeV", lambda_="0.1 TeV-1"
    )
    spatial = PointSpatialModel(lon_0="0.01 deg", lat_0="0.01 deg", frame="galactic")
    stacked.models = Models([SkyModel(spectral, spatial, name="gc-source")])
    result = Fit().run([stacked])
    points = FluxPointsEstimator(energy_edges=[0.3, 1, 3, 10] * u.TeV, source="gc-source").run(
        [stacked]
    )
    return result, points


@workload()
def analysis_3d_gammapy_benchmarks():
    """gammapy-benchmarks analysis_3d: run 110380 x 10, stacked cube, point x ECPL fit,
    flux points."""
    datastore_dir = data_dir() / "cta-1dc" / "index" / "gps"

    def run():
        with tempfile.TemporaryDirectory() as workdir:
            return gammapy_benchmarks_analysis_3d(datastore_dir, workdir)

    return run


N_SOURCES = 10
N_NPRED = 10


def npred_dataset():
    """500 x 500 pixels of 0.01 deg, 15 log energy bins 0.1-100 TeV (true = reco), flat
    exposure and background, Gaussian PSF (sigma 0.1 deg) and Gaussian energy dispersion
    (sigma 0.1 in ln E), with 10 Gaussian sources (sigma 0.05-0.3 deg, seeded)."""
    axis = MapAxis.from_energy_bounds(0.1, 100, 15)
    geom = WcsGeom.create(
        SkyCoord(0, 0, unit="deg", frame="galactic"),
        0.01,
        npix=500,
        frame="galactic",
        axes=[axis],
    )
    dataset = MapDataset.create(geom, axis.rename("energy_true"), name="npred", binsz_irf=0.5)
    dataset.exposure.data[:] = 1e12
    dataset.background.data[:] = 1.0
    dataset.mask_safe.data[:] = True
    rad = np.radians(dataset.psf.irf_map.geom.axes[1].center_in("deg"))
    sigma = np.radians(0.1)
    psf = np.exp(-0.5 * (rad / sigma) ** 2) / (2 * np.pi * sigma**2)
    dataset.psf.irf_map.data[:] = psf[np.newaxis, :, np.newaxis, np.newaxis]
    log_edges, log_centres = np.log(axis.edges_in("TeV")), np.log(axis.center_in("TeV"))
    edisp = np.diff(ndtr((log_edges[np.newaxis, :] - log_centres[:, np.newaxis]) / 0.1), axis=1)
    dataset.edisp.irf_map.data[:] = edisp[:, :, np.newaxis, np.newaxis]
    rng = np.random.default_rng(0)
    dataset.models = Models(
        SkyModel(
            PowerLawSpectralModel(index=2.3, amplitude=1e-12),
            GaussianSpatialModel(
                lon_0=rng.uniform(-2, 2),
                lat_0=rng.uniform(-2, 2),
                sigma=rng.uniform(0.05, 0.3),
                frame="galactic",
            ),
            name=f"source-{i}",
        )
        for i in range(N_SOURCES)
    )
    return dataset


@workload(items=N_SOURCES * N_NPRED, unit="source npred")
def npred_10_gaussian_sources():
    """npred of 10 Gaussian sources on 500 x 500 x 15 bins, 10 times; before each time every
    source's position, width and index change (as in a fit), so nothing is cached."""
    dataset = npred_dataset()

    def run():
        for _ in range(N_NPRED):
            for model in dataset.models:
                model.spatial_model.lon_0.value += 0.001
                model.spatial_model.sigma.value *= 1.001
                model.spectral_model.index.value += 0.001
            dataset.npred()

    return run
