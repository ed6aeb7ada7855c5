import pytest

from musicinterp.errors import MusicInterpError
from musicinterp.sae import SAEArtifactError, SAEConfigError, SAETrainingError, TrainConfig, load
from musicinterp.store import StoreError


def test_where_each_sae_error_sits():
    assert issubclass(SAETrainingError, SAEConfigError) and issubclass(SAEConfigError, ValueError)
    assert issubclass(SAEArtifactError, StoreError)  # a damaged artifact is a damaged file on disk
    assert all(issubclass(e, MusicInterpError) for e in (SAEArtifactError, SAEConfigError, SAETrainingError))


def test_raised_for_a_bad_setting_and_a_missing_artifact(tmp_path, tiny_model):
    with pytest.raises(SAEConfigError, match="k=40 is larger than dict_size=32"):
        TrainConfig(k=40, dict_size=32)
    with pytest.raises(SAEArtifactError):
        load(tmp_path / "none", tiny_model)
