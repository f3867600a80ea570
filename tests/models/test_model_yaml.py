import astropy.units as u
import numpy as np
import pytest
import yaml

from gammarules.errors import ConfigError, DataFormatError, GammarulesError
from gammarules.models import (
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    Models,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel,
    UnsupportedModel,
)

# Written by Gammapy 2.1 (Models.write) for a PowerLaw and a LogParabola source with the
# covariance set in `gammapy_covariance_matrix`; kept verbatim as the reference.
GAMMAPY_YAML = """\
components:
-   name: pl-src
    type: SkyModel
    spectral:
        type: PowerLawSpectralModel
        parameters:
        -   name: index
            value: 2.3
            error: 0.1
        -   name: amplitude
            value: 2.1e-12
            unit: TeV-1 s-1 cm-2
            error: 1.0e-13
        -   name: reference
            value: 1.0
            unit: TeV
-   name: lp-src
    type: SkyModel
    datasets_names:
    - d1
    spectral:
        type: LogParabolaSpectralModel
        parameters:
        -   name: amplitude
            value: 3.0e-11
            unit: TeV-1 s-1 cm-2
            error: 2.0e-12
        -   name: reference
            value: 0.5
            unit: TeV
        -   name: alpha
            value: 2.5
            error: 0.05
            min: 1.0
            max: 5.0
        -   name: beta
            value: 0.1
            frozen: true
covariance: gp_covariance.dat
metadata:
    creator: Gammapy 2.1
    date: '2026-11-22T05:15:13.879120'
    origin: null
"""

GAMMAPY_COVARIANCE = """\
|                Parameters |                    0 |     1 |   2 |      3 |   4 |                     5 |   6 |
|     pl-src.spectral.index | 0.010000000000000002 | 5e-15 | 0.0 |    0.0 | 0.0 |                 0.001 | 0.0 |
| pl-src.spectral.amplitude |                5e-15 | 1e-26 | 0.0 |    0.0 | 0.0 |                   0.0 | 0.0 |
| pl-src.spectral.reference |                  0.0 |   0.0 | 0.0 |    0.0 | 0.0 |                   0.0 | 0.0 |
| lp-src.spectral.amplitude |                  0.0 |   0.0 | 0.0 |  4e-24 | 0.0 |                -6e-14 | 0.0 |
| lp-src.spectral.reference |                  0.0 |   0.0 | 0.0 |    0.0 | 0.0 |                   0.0 | 0.0 |
|     lp-src.spectral.alpha |                0.001 |   0.0 | 0.0 | -6e-14 | 0.0 | 0.0025000000000000005 | 0.0 |
|      lp-src.spectral.beta |                  0.0 |   0.0 | 0.0 |    0.0 | 0.0 |                   0.0 | 0.0 |
"""  # noqa: E501


def gammapy_covariance_matrix():
    cov = np.zeros((7, 7))
    cov[0, 0], cov[1, 1], cov[3, 3], cov[5, 5] = 0.01, 1e-26, 4e-24, 0.0025
    cov[0, 1] = cov[1, 0] = 5e-15
    cov[3, 5] = cov[5, 3] = -6e-14
    cov[0, 5] = cov[5, 0] = 1e-3
    return cov


def same_models_in_gammarules():
    pl = PowerLawSpectralModel(index=2.3, amplitude="2.1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
    lp = LogParabolaSpectralModel(
        alpha=2.5, beta=0.1, amplitude="3e-11 cm-2 s-1 TeV-1", reference="0.5 TeV"
    )
    lp.alpha.min, lp.alpha.max = 1.0, 5.0
    lp.beta.frozen = True
    models = Models([SkyModel(pl, name="pl-src"), SkyModel(lp, name="lp-src", datasets_names="d1")])
    models.covariance = gammapy_covariance_matrix()
    return models


def as_text(models):
    """Every field of every model, as YAML text (so that NaN bounds compare equal)."""
    return yaml.safe_dump(models.to_dict(full_output=True))


@pytest.fixture
def gammapy_file(tmp_path):
    (tmp_path / "gp_covariance.dat").write_text(GAMMAPY_COVARIANCE)
    path = tmp_path / "gp.yaml"
    path.write_text(GAMMAPY_YAML)
    return path


def test_read_a_file_written_by_gammapy(gammapy_file):
    models = Models.read(gammapy_file)
    assert models.names == ["pl-src", "lp-src"]
    pl = models["pl-src"].spectral_model
    lp = models["lp-src"].spectral_model
    assert isinstance(pl, PowerLawSpectralModel) and isinstance(lp, LogParabolaSpectralModel)
    assert models["pl-src"].datasets_names is None
    assert models["lp-src"].datasets_names == ["d1"]
    assert (pl.index.value, pl.amplitude.value, pl.reference.value) == (2.3, 2.1e-12, 1.0)
    assert pl.amplitude.unit == u.Unit("TeV-1 cm-2 s-1")
    assert pl.reference.frozen and not pl.index.frozen  # class defaults fill the gaps
    assert (lp.alpha.min, lp.alpha.max, lp.beta.frozen) == (1.0, 5.0, True)
    assert np.isnan(lp.amplitude.min)
    np.testing.assert_allclose(models.covariance, gammapy_covariance_matrix(), rtol=1e-14)
    assert pl.index.error == pytest.approx(0.1) and lp.alpha.error == pytest.approx(0.05)


def test_written_file_has_the_content_gammapy_writes(tmp_path, gammapy_file):
    path = tmp_path / "out" / "gp.yaml"
    path.parent.mkdir()
    same_models_in_gammarules().write(path)
    ours, theirs = yaml.safe_load(path.read_text()), yaml.safe_load(gammapy_file.read_text())
    assert ours.pop("metadata")["creator"].startswith("gammarules")
    theirs.pop("metadata")
    assert ours == theirs

    ours_cov = Models.read(path).covariance
    np.testing.assert_allclose(ours_cov, gammapy_covariance_matrix(), rtol=1e-14)


def test_full_output_round_trip_preserves_every_field(tmp_path):
    ecpl = ExpCutoffPowerLawSpectralModel(
        index=1.9, amplitude="7e-19 MeV-1 cm-2 s-1", reference="300 GeV", lambda_="0.05 TeV-1"
    )
    ecpl.index.min, ecpl.lambda_.max, ecpl.alpha.frozen = 0.5, 1.0, False
    secpl = SuperExpCutoffPowerLaw4FGLDR3SpectralModel(expfactor=0.2, index_2=0.6)
    models = Models(
        [SkyModel(ecpl, name="a"), SkyModel(secpl, name="b", datasets_names=["x", "y"])]
    )
    cov = np.diag(np.linspace(1, 2, len(models.parameters))) * models.parameters.values**2 * 1e-3
    cov[0, 3] = cov[3, 0] = 0.3 * np.sqrt(cov[0, 0] * cov[3, 3])
    models.covariance = cov

    for full_output in (False, True):
        path = tmp_path / f"models_{full_output}.yaml"
        models.write(path, full_output=full_output)
        again = Models.read(path)
        assert as_text(again) == as_text(models)
        np.testing.assert_allclose(again.covariance, cov, rtol=1e-14)
        assert again["a"].spectral_model.amplitude.unit == u.Unit("MeV-1 cm-2 s-1")
        assert again["b"].datasets_names == ["x", "y"]
    written = yaml.safe_load((tmp_path / "models_True.yaml").read_text())
    index = written["components"][0]["spectral"]["parameters"][0]
    assert set(index) >= {"name", "value", "unit", "error", "min", "max", "frozen"}


def test_write_without_covariance_and_no_overwrite(tmp_path):
    path = tmp_path / "m.yaml"
    same_models_in_gammarules().write(path, write_covariance=False)
    assert "covariance" not in yaml.safe_load(path.read_text())
    assert not (tmp_path / "m_covariance.dat").exists()
    with pytest.raises(ConfigError, match="m.yaml: file exists"):
        same_models_in_gammarules().write(path)


UNSUPPORTED = """\
components:
-   name: src
    type: SkyModel
    spectral:
        type: CompoundSpectralModel
        model1: {type: PowerLawSpectralModel, parameters: [{name: index, value: 2.0}]}
        operator: mul
    spatial:
        type: PiecewiseNormSpatialModel
        frame: galactic
        parameters:
        -   {name: lon_0, value: 0.5, unit: deg}
        -   {name: sigma, value: 0.2, unit: deg, min: 0.0}
-   name: diffuse
    type: TemplateNPredModel
    filename: npred.fits
-   type: FoVBackgroundModel
    datasets_names: [obs-1]
    spectral: {type: PowerLawNormSpectralModel, parameters: [{name: norm, value: 1.1}]}
"""


def test_unsupported_model_types_are_kept_and_written_back(tmp_path):
    path = tmp_path / "in.yaml"
    path.write_text(UNSUPPORTED)
    models = Models.read(path)
    assert models.names == ["src", "diffuse", "obs-1-bkg"]
    src = models["src"]
    assert isinstance(src.spectral_model, UnsupportedModel)
    assert src.spatial_model.type == "PiecewiseNormSpatialModel"
    # only the background model (supported) has parameters: norm, tilt, reference
    assert models.parameters.names == ["norm", "tilt", "reference"]
    assert models["obs-1-bkg"].spectral_model.norm.value == 1.1
    with pytest.raises(GammarulesError, match="'CompoundSpectralModel' is not supported"):
        src.spectral_model(1 * u.TeV)
    with pytest.raises(AttributeError, match="'PiecewiseNormSpatialModel' is not supported"):
        src.spatial_model.evaluate  # noqa: B018

    out = tmp_path / "out.yaml"
    models.write(out, write_covariance=False)
    written = yaml.safe_load(out.read_text())["components"]
    expected = yaml.safe_load(UNSUPPORTED)["components"]
    assert written[:2] == expected[:2]
    assert written[2]["datasets_names"] == ["obs-1"]
    assert written[2]["spectral"]["parameters"][0] == {"name": "norm", "value": 1.1}


@pytest.mark.data
def test_fermi_3fhl_crab_model_file(data_dir, tmp_path):
    path = data_dir / "fermi-3fhl-crab" / "Fermi-LAT-3FHL_models.yaml"
    models = Models.read(path)
    assert models.names == ["Crab Nebula", "Fermi-LAT-bkg"]
    crab = models["Crab Nebula"].spectral_model
    assert isinstance(crab, LogParabolaSpectralModel)
    assert crab.amplitude.value == 0.018182745349064267
    assert crab.amplitude.error == 0.003026327991562108
    assert crab.reference.quantity == 5.054833602905273e-05 * u.TeV and crab.reference.frozen
    assert (crab.alpha.value, crab.beta.value) == (1.652368617859867, 0.03921700077803329)
    # dnde at the reference energy (50.5 MeV) is the amplitude
    assert crab(50.54833602905273 * u.MeV).to_value("TeV-1 cm-2 s-1") == pytest.approx(
        0.018182745349064267, rel=1e-14
    )
    assert models[1].type == "FoVBackgroundModel"

    out = tmp_path / "crab.yaml"
    models.write(out)
    again = Models.read(out)
    assert as_text(again) == as_text(models)
    np.testing.assert_array_equal(again.parameters.values, models.parameters.values)
    np.testing.assert_array_equal(again.parameters.errors, models.parameters.errors)
    # the point source position comes back (compact form), the background model as it was
    point = models["Crab Nebula"].spatial_model
    assert isinstance(point, PointSpatialModel) and point.frame == "icrs"
    assert (point.lon_0.value, point.lat_0.value) == (83.63310241699219, 22.019899368286133)
    original = yaml.safe_load(path.read_text())["components"]
    written = yaml.safe_load(out.read_text())["components"]
    assert written[0]["spatial"] == {
        "type": "PointSpatialModel",
        "frame": "icrs",
        "parameters": [
            {"name": par["name"], "value": par["value"], "unit": "deg", "frozen": True}
            for par in original[0]["spatial"]["parameters"]
        ],
    }
    assert {k: written[1][k] for k in ("type", "datasets_names")} == {
        k: original[1][k] for k in ("type", "datasets_names")
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("components: [", "not valid YAML"),
        ("models: []", "needs a 'components' list"),
        ("components:\n- {name: a}", "component 0 needs a 'type'"),
        (
            "components:\n- {name: a, type: SkyModel, spectral: "
            "{type: pl, parameters: [{name: gamma, value: 2}]}}",
            r"component 0 \('a'\): PowerLawSpectralModel: unknown parameter 'gamma'",
        ),
        (
            "components:\n- {name: a, type: SkyModel, spectral: "
            "{type: pl, parameters: [{name: amplitude, value: 1, unit: TeV}]}}",
            "'amplitude'.*convertible to 'TeV-1 s-1 cm-2'",
        ),
        ("components:\n- {name: a, type: SkyModel}", "has no 'spectral' entry"),
        (
            "components:\n- {name: a, type: SkyModel, spectral: {type: pl}}\n"
            "- {name: a, type: SkyModel, spectral: {type: pl}}",
            "'a' is already present",
        ),
    ],
)
def test_malformed_files_raise_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=rf"bad.yaml: .*{message}"):
        Models.read(path)


def test_missing_files_raise(tmp_path):
    with pytest.raises(DataFormatError, match="nothere.yaml: model file not found"):
        Models.read(tmp_path / "nothere.yaml")
    path = tmp_path / "gp.yaml"
    path.write_text(GAMMAPY_YAML)
    with pytest.raises(DataFormatError, match="gp_covariance.dat: covariance file not found"):
        Models.read(path)
    (tmp_path / "gp_covariance.dat").write_text(GAMMAPY_COVARIANCE.replace("lp-src.", "xx-src."))
    with pytest.raises(DataFormatError, match="no covariance for the parameters"):
        Models.read(path)


def test_models_container_access():
    models = same_models_in_gammarules()
    assert models[0] is models["pl-src"]
    assert "lp-src" in models and len(models) == 2
    assert models[1:].names == ["lp-src"]
    with pytest.raises(ConfigError, match="no model named 'x'"):
        models["x"]
    with pytest.raises(ConfigError, match="Models holds model components"):
        Models([PowerLawSpectralModel()])
    single = Models(SkyModel(PowerLawSpectralModel(), name="one"))
    assert single.names == ["one"]
    renamed = single["one"].copy(name="two")
    assert renamed.name == "two" and renamed.spectral_model is not single["one"].spectral_model
