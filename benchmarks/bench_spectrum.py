"""1D spectral analysis from DL3 to flux points on H.E.S.S. DL3 DR1 data.

The data collection is ``$GAMMARULES_DATA`` (default /work/shared/data); both workloads read
its ``hess-dl3-dr1`` data store inside the timed part, so file reading is included.
"""

import os
import tempfile
from pathlib import Path

from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion
from registry import workload

from gammarules.analysis import spectrum_1d
from gammarules.config import load_config
from gammarules.data import ENV_VAR, DataStore
from gammarules.datasets import SpectrumDataset, SpectrumDatasetOnOff, stack
from gammarules.errors import ConfigError
from gammarules.estimators import FluxPointsEstimator
from gammarules.fit import Fit
from gammarules.makers.background import ReflectedRegionsBackgroundMaker
from gammarules.makers.safe_mask import SafeMaskMaker
from gammarules.makers.spectrum import SpectrumDatasetMaker
from gammarules.maps import Map, MapAxis, WcsGeom
from gammarules.models import Models, PowerLawSpectralModel, SkyModel

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path("/work/shared/data")
DATASTORE = "hess-dl3-dr1"


def data_dir():
    """The data collection holding ``hess-dl3-dr1``; ConfigError naming the path if absent."""
    path = Path(os.environ.get(ENV_VAR) or DEFAULT_DATA)
    if not (path / DATASTORE).is_dir():
        source = f"${ENV_VAR}" if os.environ.get(ENV_VAR) else f"the default (${ENV_VAR} unset)"
        raise ConfigError(
            f"benchmark data: {path / DATASTORE} (data collection {path}, from {source}) is not "
            f"a directory; set ${ENV_VAR} to a directory holding the H.E.S.S. DL3 DR1 data store "
            f"'{DATASTORE}/'"
        )
    return path


@workload()
def hess_crab_1d():
    """H.E.S.S. Crab 1D analysis of config/analyses/hess_crab_1d.yaml, DL3 to flux points."""
    data = data_dir()
    config = REPO / "config" / "analyses" / "hess_crab_1d.yaml"
    schema = REPO / "workflow" / "schemas" / "analysis.schema.yaml"
    return lambda: spectrum_1d.run(load_config(config, schema), data)


OBS_ID = 23523
N_OBS = 10
TARGET = SkyCoord(83.63, 22.01, unit="deg", frame="icrs")
EXCLUDED = CircleSkyRegion(SkyCoord(183.604, -8.708, unit="deg", frame="galactic"), 0.5 * u.deg)


def gammapy_benchmarks_spectrum_1d(datastore_dir, workdir):
    """The steps of gammapy-benchmarks ``benchmarks/spectrum_1d.py`` with gammarules.

    Followed from that script: run 23523 read ``N_OBS`` = 10 times (separate Observation
    objects, so the files are read 10 times); ON circle of 0.11 deg at (83.63, 22.01);
    reflected-regions background with an exclusion mask (150 x 150 pixels of 0.05 deg, TAN,
    galactic, centred on the target; the circle of 0.5 deg at (l, b) = (183.604, -8.708)
    excluded); reco energy 0.1-40 TeV in 40 log bins, true energy 0.05-100 TeV in 200; no
    containment correction; safe mask ``aeff-max`` at 10 %; one stacked ON/OFF dataset written
    to disk and read back; power law (index 2, amplitude 2e-11 cm-2 s-1 TeV-1 at 1 TeV)
    fitted; 11 flux points log-spaced between 0.7 and 30 TeV with no optional steps (no
    asymmetric errors, upper limits or scans: Gammapy's default). The script's frozen point
    spatial model is left out, as it does not enter a 1D analysis without containment
    correction.
    """
    store = DataStore.from_dir(datastore_dir)
    observations = [store.obs(OBS_ID) for _ in range(N_OBS)]
    on_region = CircleSkyRegion(TARGET, 0.11 * u.deg)
    geom = WcsGeom.create(TARGET, 0.05 * u.deg, npix=150, frame="galactic", proj="TAN")
    exclusion = Map(geom, ~geom.region_mask([EXCLUDED]))
    empty = SpectrumDataset.create(
        MapAxis.from_energy_bounds(0.1 * u.TeV, 40 * u.TeV, 40, name="energy"),
        MapAxis.from_energy_bounds(0.05 * u.TeV, 100 * u.TeV, 200, name="energy_true"),
        region=on_region,
    )
    dataset_maker = SpectrumDatasetMaker(containment_correction=False)
    background_maker = ReflectedRegionsBackgroundMaker(exclusion_mask=exclusion)
    safe_mask_maker = SafeMaskMaker(methods=["aeff-max"], aeff_percent=10)
    datasets = []
    for i, observation in enumerate(observations):
        dataset = dataset_maker.run(empty.copy(name=f"dataset-{i}"), observation)
        dataset = background_maker.run(dataset, observation)
        datasets.append(safe_mask_maker.run(dataset, observation))
    path = Path(workdir) / "stacked.nc"
    stack(datasets).write(path)
    stacked = SpectrumDatasetOnOff.read(path)
    spectral = PowerLawSpectralModel(
        index=2, amplitude=2e-11 * u.Unit("cm-2 s-1 TeV-1"), reference=1 * u.TeV
    )
    stacked.models = Models([SkyModel(spectral_model=spectral, name="crab")])
    result = Fit().run([stacked])
    edges = MapAxis.from_energy_bounds(0.7 * u.TeV, 30 * u.TeV, 11).edges
    points = FluxPointsEstimator(energy_edges=edges, selection_optional=None).run([stacked])
    return result, points


@workload()
def spectrum_1d_gammapy_benchmarks():
    """gammapy-benchmarks spectrum_1d: run 23523 x 10, stacked ON/OFF, PL fit, 11 flux points."""
    datastore_dir = data_dir() / DATASTORE

    def run():
        with tempfile.TemporaryDirectory() as workdir:
            return gammapy_benchmarks_spectrum_1d(datastore_dir, workdir)

    return run
