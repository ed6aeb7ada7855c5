import pytest

from musicinterp.sae import architectures
from musicinterp.sae.config import TrainConfig


def test_trainer_gets_the_schedules_scaled_to_the_run():
    cfg = TrainConfig(steps=2000, batch_size=1024).resolved()
    trainer = architectures.make_trainer(cfg, 8)
    assert trainer.dead_feature_threshold == cfg.dead_tokens and trainer.threshold_start_step == 1000
    assert trainer.ae.encoder.weight.shape == (cfg.dict_size, 8)


def test_empty_dictionaries_by_name():
    from dictionary_learning.trainers.batch_top_k import BatchTopKSAE
    from dictionary_learning.trainers.top_k import AutoEncoderTopK

    topk = architectures.empty_dictionary("topk", 12, 48, 3)
    assert isinstance(topk, AutoEncoderTopK) and topk.decoder.weight.shape == (12, 48) and int(topk.k) == 3
    assert isinstance(architectures.empty_dictionary("batch_topk", 12, 48, 3), BatchTopKSAE)
    with pytest.raises(ValueError, match="unknown SAE architecture 'relu'"):
        architectures.classes("relu")
