import math

import pytest
import torch

from musicinterp.ablation import AblationInputError
from musicinterp.organism import concept_logit_diff, detect, organism_clip_pair, organism_prompt_pair


@pytest.mark.parametrize("concept, ratio", [("drums", 48), ("tempo", 108 / 36), ("bass", 72), ("timbre", 1)])
def test_logit_diff_under_uniform_logits_is_the_log_code_ratio(concept, ratio):
    # uniform over 256 codes: log P(any positive) - log P(any negative) = log(#positive / #negative)
    logp = torch.full((1, 2, 4, 5, 256), -math.log(256))
    assert concept_logit_diff(concept)(logp, None).item() == pytest.approx(math.log(ratio), abs=1e-5)
    with pytest.raises(AblationInputError, match="unknown organism concept 'piano'"):
        concept_logit_diff("piano")


def test_clip_pair_holds_the_same_clips_with_and_without_the_concept(organism):
    pair = organism_clip_pair(organism, "drums", n=3, n_frames=40)
    assert detect(pair.clean.codes, "drums")[1].tolist() == [1, 1, 1]
    assert detect(pair.corrupt.codes, "drums")[1].tolist() == [0, 0, 0]
    assert torch.equal(pair.clean.codes[:, 0], pair.corrupt.codes[:, 0])  # same melody
    assert pair.description == "drums on -> off (3 clips)"
    with pytest.raises(AblationInputError, match="unknown organism concept"):
        organism_clip_pair(organism, "piano")


def test_prompt_pair_swaps_the_word_on_the_same_clips(organism):
    pair = organism_prompt_pair(organism, "bass", n=2, n_frames=40)
    assert torch.equal(pair.clean.codes, pair.corrupt.codes)
    assert detect(pair.clean.codes, "bass")[1].tolist() == [1, 1]
    ids = organism.tokenizer(["bass", "no bass"])["input_ids"]
    assert pair.clean.cond.input_ids[0].tolist() == ids[0] and pair.corrupt.cond.input_ids[0].tolist() == ids[1]
