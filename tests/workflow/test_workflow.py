"""The H.E.S.S. Crab 1D analysis through `snakemake`: products, reruns, and bad inputs.

Each test runs snakemake in a temporary copy of the workflow (Snakefile, workflow/, config/),
so results land in tmp_path.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.data, pytest.mark.workflow]


def _snakemake_bin():
    return str(Path(sys.executable).parent / "snakemake")


def make_workdir(tmp_path, analyses, data_dir):
    """A copy of the workflow whose config lists ``analyses`` ({name: config dict})."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "Snakefile", work / "Snakefile")
    shutil.copytree(ROOT / "workflow", work / "workflow")
    (work / "config" / "analyses").mkdir(parents=True)
    for name, cfg in analyses.items():
        (work / "config" / "analyses" / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
    (work / "config" / "config.yaml").write_text(
        yaml.safe_dump({"analyses": list(analyses), "data_dir": str(data_dir)})
    )
    return work


def snakemake(work, *args):
    return subprocess.run(
        [_snakemake_bin(), "--cores", "2", *args],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
    )


def planned_rules(work):
    """Rule -> number of jobs a dry run would execute (empty when nothing is to be done)."""
    out = snakemake(work, "--dry-run")
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    if "Nothing to be done" in text:
        return {}
    table = text[text.index("Job stats:") :]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)
        if m.group(1) not in ("total", "all")
    }


@pytest.fixture(scope="module")
def crab_config():
    return yaml.safe_load((ROOT / "config/analyses/hess_crab_1d.yaml").read_text())


@pytest.fixture(scope="module")
def crab_run(tmp_path_factory, crab_config, data_dir):
    work = make_workdir(tmp_path_factory.mktemp("crab"), {"hess_crab_1d": crab_config}, data_dir)
    out = snakemake(work)
    assert out.returncode == 0, out.stderr[-3000:]
    return work


def test_products(crab_run):
    """Every product of DESIGN.md's data flow exists; summary.json has the promised shape."""
    results = crab_run / "results/hess_crab_1d"
    for name in (
        "observations.ecsv",
        "irf/obs_23523.nc",
        "dl4/obs_23592.nc",
        "dl4/stacked.nc",
        "dl5/joint/pl/models.yaml",
        "dl5/joint/lp/fit.json",
        "dl5/stacked/pl/fit.json",
        "dl5/flux_points.fits",
        "dl5/flux_points.ecsv",
        "dl5/flux_points_e2dnde.ecsv",
        "figures/spectrum.png",
        "figures/sed.png",
    ):
        assert (results / name).is_file(), name
    summary = json.loads((results / "summary.json").read_text())
    assert [o["obs_id"] for o in summary["observations"]] == [23523, 23526, 23559, 23592]
    assert set(summary["observations"][0]) == {
        "obs_id",
        "counts",
        "counts_off",
        "alpha",
        "excess",
        "sqrt_ts",
        "livetime_s",
    }
    assert set(summary["fits"]) == {"joint", "stacked"}
    assert set(summary["fits"]["joint"]) == {"pl", "lp"}
    assert len(summary["flux_points"]) == 5
    assert set(summary["wall_time_s"]) >= {
        "select_observations",
        "irf",
        "reduce",
        "background",
        "stack",
        "fit",
        "flux_points",
    }


def test_acceptance_numbers(crab_run, hess_crab_1d_acceptance):
    """The issue's acceptance numbers, read from the summary the workflow wrote."""
    hess_crab_1d_acceptance(
        json.loads((crab_run / "results/hess_crab_1d/summary.json").read_text())
    )


def test_second_run_does_nothing(crab_run):
    assert planned_rules(crab_run) == {}


def test_fit_edit_reruns_only_fit_and_after(tmp_path, crab_run):
    """Editing the fit section reruns the fit of that model and what follows, nothing before."""
    config_path = crab_run / "config/analyses/hess_crab_1d.yaml"
    original = config_path.read_text()
    cfg = yaml.safe_load(original)
    cfg["fit"]["models"]["pl"]["parameters"]["index"] = 2.5
    config_path.write_text(yaml.safe_dump(cfg))
    try:
        rules = planned_rules(crab_run)
    finally:
        config_path.write_text(original)
    assert rules == {
        "fit": 2,  # joint and stacked power-law fits; the log-parabola fits are unchanged
        "flux_points": 1,
        "figure_spectrum": 1,
        "figure_sed": 1,
        "summary": 1,
    }


def small_config(crab_config, **observations):
    cfg = json.loads(json.dumps(crab_config))
    cfg["observations"].update(observations)
    cfg["fit"]["models"] = {"pl": cfg["fit"]["models"]["pl"]}
    return cfg


def test_unknown_config_key_fails_before_any_job(tmp_path, crab_config, data_dir):
    cfg = small_config(crab_config)
    cfg["background"]["n_off_region"] = 3
    work = make_workdir(tmp_path, {"hess_crab_1d": cfg}, data_dir)
    out = snakemake(work)
    assert out.returncode != 0
    assert "unknown key(s) ['n_off_region'] in 'background'" in out.stderr
    assert not (work / "results").exists()


def test_obs_id_not_in_index(tmp_path, crab_config, data_dir):
    work = make_workdir(
        tmp_path, {"hess_crab_1d": small_config(crab_config, obs_ids=[1])}, data_dir
    )
    out = snakemake(work)
    assert out.returncode != 0
    message = out.stderr + out.stdout
    assert "hess-dl3-dr1/obs-index.fits.gz" in message
    assert "obs ids [1] not in it" in message
    assert not (work / "results/hess_crab_1d/observations.ecsv").exists()


def _copy_datastore(src, dst, obs_ids):
    """A data store holding only ``obs_ids`` (index files copied whole), under dst."""
    dst.mkdir(parents=True)
    for name in ("obs-index.fits.gz", "hdu-index.fits.gz"):
        shutil.copy(src / name, dst / name)
    (dst / "data").mkdir()
    for obs_id in obs_ids:
        name = f"hess_dl3_dr1_obs_id_{obs_id:06d}.fits.gz"
        shutil.copy(src / "data" / name, dst / "data" / name)
    return dst


def test_missing_file_fails_naming_it(tmp_path, crab_config, hess_dir):
    """A DL3 file listed in the index but absent: the workflow stops before running any
    reduction, naming the file."""
    data = tmp_path / "data"
    store = _copy_datastore(hess_dir, data / "hess-dl3-dr1", [23523, 23559])
    (store / "data/hess_dl3_dr1_obs_id_023559.fits.gz").unlink()
    cfg = small_config(crab_config, obs_ids=[23523, 23559])
    work = make_workdir(tmp_path, {"hess_crab_1d": cfg}, data)
    out = snakemake(work)
    assert out.returncode != 0
    assert "Missing input files for rule irf" in out.stderr + out.stdout
    assert "hess_dl3_dr1_obs_id_023559.fits.gz" in out.stderr + out.stdout
    assert not (work / "results/hess_crab_1d/irf").exists()


def test_truncated_file_fails_with_clear_error(tmp_path, crab_config, hess_dir):
    """A truncated DL3 file: its job fails naming the file, nothing is left behind for it,
    and the good observation still goes through."""
    data = tmp_path / "data"
    store = _copy_datastore(hess_dir, data / "hess-dl3-dr1", [23523, 23526])
    broken = store / "data/hess_dl3_dr1_obs_id_023526.fits.gz"
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 3])
    cfg = small_config(crab_config, obs_ids=[23523, 23526])
    work = make_workdir(tmp_path, {"hess_crab_1d": cfg}, data)
    out = snakemake(work, "--keep-going")
    assert out.returncode != 0
    log = (work / "results/hess_crab_1d/logs/irf/23526.log").read_text()
    assert "hess_dl3_dr1_obs_id_023526.fits.gz" in log
    assert re.search(r"truncated|corrupt", log)
    results = work / "results/hess_crab_1d"
    assert (results / "irf/obs_23523.nc").exists()  # the good run went through
    assert not (results / "irf/obs_23526.nc").exists()
    assert not (results / "dl4/stacked.nc").exists()
    assert not (results / "summary.json").exists()


@pytest.fixture(scope="module")
def crab_3d_run(tmp_path_factory, data_dir):
    config = yaml.safe_load((ROOT / "config/analyses/hess_crab_3d.yaml").read_text())
    work = make_workdir(tmp_path_factory.mktemp("crab3d"), {"hess_crab_3d": config}, data_dir)
    out = snakemake(work)
    assert out.returncode == 0, out.stderr[-3000:]
    return work


def test_crab_3d_products_and_numbers(crab_3d_run, hess_crab_3d_acceptance):
    """The 3D analysis through snakemake: one reduced dataset per run, the stacked dataset,
    the fit, significance maps, figures, and a summary with Gammapy's numbers."""
    results = crab_3d_run / "results/hess_crab_3d"
    for obs_id in (23523, 23526, 23559, 23592):
        assert (results / f"dl4/map/obs_{obs_id}.nc").is_file()
    for product in (
        "dl4/map/stacked.nc",
        "dl5/map/models.yaml",
        "dl5/map/fit.json",
        "dl5/map/significance.fits",
        "dl5/map/residual_significance.fits",
        "figures/counts.png",
        "figures/significance.png",
        "figures/npred_sources.png",
    ):
        assert (results / product).stat().st_size > 0, product
    summary = json.loads((results / "summary.json").read_text())
    assert summary["kind"] == "map_3d"
    assert set(summary) == {
        "analysis",
        "kind",
        "description",
        "gammarules_version",
        "observations",
        "stacked",
        "fits",
        "flux_points",
        "maps",
        "wall_time_s",
    }
    assert [o["obs_id"] for o in summary["observations"]] == [23523, 23526, 23559, 23592]
    assert set(summary["wall_time_s"]) >= {"map_reduce", "map_stack", "map_fit"}
    hess_crab_3d_acceptance(summary)
    assert planned_rules(crab_3d_run) == {}
