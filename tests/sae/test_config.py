import pytest

from musicinterp.sae.config import TrainConfig
from musicinterp.sae.errors import SAEConfigError


def test_schedules_scale_to_the_run():
    cfg = TrainConfig(steps=2000, batch_size=1024).resolved()
    assert cfg.warmup_steps == 200 and cfg.decay_start == 1600 and cfg.threshold_start_step == 1000
    assert cfg.dead_tokens == 200 * 1024 and 0 < cfg.threshold_beta < 0.999
    big = TrainConfig(steps=100_000, batch_size=4096).resolved()
    assert big.warmup_steps == 1000 and big.threshold_start_step == 1000 and big.dead_tokens == 10_000_000


def test_hand_computed_schedule_of_a_short_run():
    cfg = TrainConfig(steps=40, batch_size=10, dict_size=4096).resolved()
    assert (cfg.warmup_steps, cfg.decay_start, cfg.threshold_start_step, cfg.dead_tokens) == (4, 32, 20, 40)
    assert cfg.threshold_beta == pytest.approx(0.8)  # 1 - 4 / (40 - 20)
    assert cfg.lr == pytest.approx(4e-4)  # 2e-4 / sqrt(4096 / 16384)
    assert TrainConfig(lr=1e-3).resolved().lr == 1e-3


def test_round_trip_and_refusals():
    cfg = TrainConfig(site="attn_z", head=2, k=8)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(SAEConfigError, match="unknown training settings: width"):
        TrainConfig.from_dict({"width": 3})
    with pytest.raises(SAEConfigError, match="decay_start=5 must be after warmup_steps=10"):
        TrainConfig(steps=100, warmup_steps=10, decay_start=5).resolved()
    with pytest.raises(SAEConfigError, match="lr must be positive"):
        TrainConfig(lr=0.0)


@pytest.mark.parametrize("field, value, match", [
    ("batch_size", 100_000_000, "batch_size=100000000 is more than 65536: one batch of frames"),
    ("dict_size", 10**7, "dict_size=10000000 is more than 262144: the dictionary, its gradients and Adam"),
    ("shuffle_buffer", 10**9, "shuffle_buffer=1000000000 is more than 4194304: the shuffle pool"),
    ("batch_size", True, "batch_size must be a positive integer"),
    ("shuffle_buffer", 2.5, "shuffle_buffer must be an integer"),
    ("lr", float("nan"), "lr must be positive"),
    ("lr", "fast", "lr must be positive"),
])
def test_sizes_from_input_are_bounded_with_the_reason(field, value, match):
    with pytest.raises(SAEConfigError, match=match):
        TrainConfig(**{field: value})
    with pytest.raises(SAEConfigError, match=match):
        TrainConfig.from_dict({field: value})
