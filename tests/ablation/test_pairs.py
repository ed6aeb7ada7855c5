"""Clean/corrupt pairs: word swaps both ways, organism clip pairs differ only in the concept."""

import pytest
import torch

from musicinterp.ablation.inputs import AblationInputError
from musicinterp.ablation.pairs import swap_words, word_swap_pair
from musicinterp.organism.pairs import organism_clip_pair


def test_swap_words_both_ways_longest_first():
    swaps = {"drums": "no drums", "fast": "slow"}
    assert swap_words("drums fast", swaps) == "no drums slow"
    assert swap_words("no drums and slow", swaps) == "drums and fast"
    assert swap_words("Drumsticks", swaps) == "Drumsticks"


def test_word_swap_pair_and_refusal(tiny, monkeypatch):
    from musicinterp.organism.prompts import build_tokenizer

    monkeypatch.setattr(tiny, "tokenizer", build_tokenizer())
    codes = torch.randint(0, 2048, (2, 4, 6))
    pair = word_swap_pair(tiny, codes, ["drums", "music with drums"], {"drums": "no drums"})
    assert torch.equal(pair.clean.codes, pair.corrupt.codes)
    assert not torch.equal(pair.clean.cond.input_ids, pair.corrupt.cond.input_ids)
    with pytest.raises(AblationInputError, match="prompts: 'bass' holds none"):
        word_swap_pair(tiny, codes, "bass", {"drums": "no drums"})


def test_organism_clip_pair_differs_only_in_the_concept():
    from musicinterp.organism import vocab as V

    class Handle:  # enough of a model for building inputs
        n_codebooks, codebook_size = 4, 256
        generation_defaults = {"guidance_scale": 3.0}

        def check_codes(self, codes, what="codes"):
            return codes.long()

        def conditioning(self, batch=None, **kw):
            from musicinterp.models.musicgen import Conditioning

            return Conditioning(torch.zeros(batch, 1, dtype=torch.long), torch.zeros(batch, 1, dtype=torch.long))

    pair = organism_clip_pair(Handle(), "drums", n=3, n_frames=100)
    on, off = pair.clean.codes, pair.corrupt.codes
    assert (off[:, V.DRUMS] == 0).all() and (on[:, V.DRUMS] > 0).any()
    keep = [k for k in range(4) if k != V.DRUMS]
    assert torch.equal(on[:, keep], off[:, keep])
