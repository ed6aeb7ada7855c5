import pytest

from musicinterp.models.shapes import REAL_SHAPES, scaled_config


def test_scaled_configs_keep_the_real_counts():
    config = scaled_config("medium", width=8)
    shape = REAL_SHAPES["medium"]
    assert (config.decoder.num_hidden_layers, config.decoder.num_attention_heads) == (shape.layers, shape.heads)
    assert config.decoder.hidden_size == shape.d_model // 8 and config.decoder.num_codebooks == 4
    with pytest.raises(ValueError, match="width 7"):
        scaled_config("small", width=7)
