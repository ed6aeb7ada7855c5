import pytest
import torch

from musicinterp.models.conditioning import Conditioning


def test_cfg_rows_are_the_conditional_ones_then_masked_copies():
    cond = Conditioning(torch.tensor([[5, 6], [7, 0]]), torch.tensor([[1, 1], [1, 0]]))
    kw = cond.kwargs(cfg_rows=True)
    assert kw["input_ids"].tolist() == [[5, 6], [7, 0], [5, 6], [7, 0]]
    assert kw["attention_mask"].tolist() == [[1, 1], [1, 0], [0, 0], [0, 0]]
    assert cond.batch == 2 and cond.kwargs()["input_ids"] is cond.input_ids


def test_masked_rows_are_the_unconditional_model(tiny, tiny_ids, codes):
    """The doubled rows of a guided batch give exactly the logits of an unconditional batch."""
    guided = tiny.forward_logits(codes, tiny.conditioning(input_ids=tiny_ids), cfg_rows=True)
    uncond = tiny.forward_logits(codes, tiny.conditioning(batch=2))
    cond = tiny.forward_logits(codes, tiny.conditioning(input_ids=tiny_ids))
    torch.testing.assert_close(guided[2:], uncond, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(guided[:2], cond, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(cond, uncond, atol=1e-3)  # the text does reach the decoder


def test_text_needs_a_tokenizer_and_empty_prompts_are_the_null_condition(tiny, organism):
    with pytest.raises(ValueError, match="model 'tiny' has no tokenizer; pass token ids"):
        tiny.conditioning(text=["drums"])
    with pytest.raises(ValueError, match=r"input_ids must be \(B, L\)"):
        tiny.conditioning(input_ids=torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="needs a batch size"):
        tiny.conditioning()
    empty = organism.conditioning(text=["", ""])
    assert empty.input_ids.tolist() == [[0], [0]] and empty.attention_mask.tolist() == [[0], [0]]
    one = organism.conditioning(text="drums")
    assert one.batch == 1 and one.attention_mask.tolist() == [[1]]
