import numpy as np
import pytest

from gammarules.errors import ConfigError
from gammarules.models import (
    LogParabolaSpectralModel,
    Models,
    PowerLawSpectralModel,
    SkyModel,
)


def two_sources():
    pl = SkyModel(PowerLawSpectralModel(index=2.3, amplitude=2e-12), name="pl-src")
    lp = SkyModel(LogParabolaSpectralModel(alpha=2.5, beta=0.1, amplitude=3e-11), name="lp-src")
    return Models([pl, lp])


def test_default_covariance_is_diagonal_from_errors():
    model = PowerLawSpectralModel()
    model.index.error = 0.2
    model.amplitude.error = 1e-13
    np.testing.assert_allclose(model.covariance, np.diag([0.04, 1e-26, 0.0]), rtol=1e-15)


def test_setting_covariance_sets_errors_and_keeps_correlation():
    model = PowerLawSpectralModel()
    cov = np.array([[0.04, 1e-14, 0], [1e-14, 1e-26, 0], [0, 0, 0]])
    model.covariance = cov
    assert model.index.error == pytest.approx(0.2)
    assert model.amplitude.error == pytest.approx(1e-13)
    np.testing.assert_allclose(model.covariance, cov, rtol=1e-14, atol=0)
    # a new error rescales the row and column, the correlation (0.5) stays
    model.index.error = 0.4
    assert model.covariance[0, 1] == pytest.approx(0.5 * 0.4 * 1e-13)

    with pytest.raises(ConfigError, match=r"\(3, 3\) matrix"):
        model.covariance = np.eye(2)


def test_models_covariance_is_block_diagonal_from_components():
    models = two_sources()
    pl, lp = models["pl-src"].spectral_model, models["lp-src"].spectral_model
    pl.covariance = np.array([[0.01, 5e-15, 0], [5e-15, 1e-26, 0], [0, 0, 0]])
    lp.covariance = np.diag([4e-24, 0.0, 0.0025, 1e-4])
    joint = models.covariance
    assert joint.shape == (7, 7)
    np.testing.assert_allclose(joint[:3, :3], pl.covariance, rtol=1e-14)
    np.testing.assert_allclose(joint[3:, 3:], lp.covariance, rtol=1e-14)
    np.testing.assert_array_equal(joint[:3, 3:], 0.0)


def test_joint_covariance_goes_back_to_the_components():
    models = two_sources()
    joint = np.zeros((7, 7))
    joint[0, 0], joint[1, 1], joint[5, 5], joint[3, 3] = 0.01, 1e-26, 0.0025, 4e-24
    joint[0, 1] = joint[1, 0] = 5e-15
    joint[0, 5] = joint[5, 0] = 1e-3  # pl index - lp alpha: a cross term between sources
    models.covariance = joint

    pl, lp = models["pl-src"].spectral_model, models["lp-src"].spectral_model
    assert pl.index.error == pytest.approx(0.1) and lp.alpha.error == pytest.approx(0.05)
    np.testing.assert_allclose(pl.covariance, joint[:3, :3], rtol=1e-14)
    np.testing.assert_allclose(models["lp-src"].covariance, joint[3:, 3:], rtol=1e-14)
    np.testing.assert_allclose(models.covariance, joint, rtol=1e-14)

    # a later change of one component shows in the joint matrix; the cross term stays
    pl.covariance = np.diag([0.04, 1e-26, 0.0])
    updated = models.covariance
    assert updated[0, 0] == pytest.approx(0.04) and updated[0, 1] == 0.0
    assert updated[0, 5] == pytest.approx(1e-3 * 2)  # correlation 0.2 with the new error 0.2


def test_shared_parameter_counts_once():
    a = PowerLawSpectralModel()
    b = PowerLawSpectralModel()
    b.index = a.index
    models = Models([SkyModel(a, name="a"), SkyModel(b, name="b")])
    assert len(models.parameters) == 5
    assert models.parameters_unique_names == [
        "a.spectral.index",
        "a.spectral.amplitude",
        "a.spectral.reference",
        "b.spectral.amplitude",
        "b.spectral.reference",
    ]
    assert models.covariance.shape == (5, 5)


def test_copy_keeps_covariance_independently():
    models = two_sources()
    joint = np.diag(np.arange(1.0, 8.0))
    joint[0, 6] = joint[6, 0] = 0.5
    models.covariance = joint
    copied = models.copy()
    np.testing.assert_allclose(copied.covariance, joint)
    copied["pl-src"].spectral_model.index.error = 3.0
    assert models["pl-src"].spectral_model.index.error == pytest.approx(1.0)
