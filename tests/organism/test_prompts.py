import numpy as np

from musicinterp.organism.prompts import WORDS, build_tokenizer, phrase, training_prompt
from musicinterp.organism.world import CONCEPTS, Latents


def test_negations_are_one_token_and_padding_is_zero():
    tok = build_tokenizer()
    ids = tok(["No Drums fast", "bass"], padding=True)["input_ids"]
    offset = 2  # [PAD], [UNK]
    assert ids[0] == [offset + WORDS.index("no_drums"), offset + WORDS.index("fast")]
    assert ids[1] == [offset + WORDS.index("bass"), 0]
    assert tok("piano")["input_ids"] == [1]  # unknown words are [UNK]


def test_phrases_name_each_pole():
    assert [phrase(c, 1) for c in CONCEPTS] == ["drums", "fast", "bright", "bass"]
    assert [phrase(c, 0) for c in CONCEPTS] == ["no drums", "slow", "dark", "no bass"]


def test_training_prompts_mention_only_the_clips_poles():
    latents = Latents(drums=1, tempo=0, timbre=1, bass=0)
    rng = np.random.default_rng(0)
    assert training_prompt(latents, rng, p_empty=1.0) == ""
    full = training_prompt(latents, rng, p_mention=1.0, p_empty=0.0)
    for concept, word in (("drums", "drums"), ("tempo", "slow"), ("timbre", "bright"), ("bass", "no bass")):
        assert word in full, concept
    assert "fast" not in full and "dark" not in full
