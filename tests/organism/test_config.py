import json

from transformers import MusicgenForConditionalGeneration

from musicinterp.organism.checkpoint import organism_metadata
from musicinterp.organism.config import OrganismConfig


def test_round_trips_through_json_and_ignores_unknown_keys():
    cfg = OrganismConfig(layers=2, steps=7, length_batches=((40, 8), (60, 4)))
    back = OrganismConfig.from_dict({**json.loads(json.dumps(cfg.to_dict())), "retired_field": 1})
    assert back == cfg and back.length_batches == ((40, 8), (60, 4))  # JSON lists come back as tuples


def test_the_shipped_checkpoint_records_its_config():
    cfg = OrganismConfig.from_dict(organism_metadata()["config"])
    assert (cfg.layers, cfg.heads, cfg.d_model) == (4, 8, 128)
    assert cfg.generation == {"guidance_scale": 3.0, "top_k": 20, "temperature": 0.8}


def test_musicgen_config_builds_a_256_code_model():
    cfg = OrganismConfig(layers=1, heads=2, d_model=32, ffn=64, text_d_model=16, text_layers=1, text_heads=2)
    hf_cfg = cfg.musicgen_config(text_vocab=16)
    assert (hf_cfg.decoder.vocab_size, hf_cfg.decoder.pad_token_id, hf_cfg.decoder_start_token_id) == (256, 256, 256)
    model = MusicgenForConditionalGeneration(hf_cfg)
    assert len(model.decoder.model.decoder.layers) == 1 and len(model.decoder.lm_heads) == 4
    assert model.decoder.lm_heads[0].out_features == 256
    assert model.text_encoder.get_input_embeddings().num_embeddings == 16
