"""Patching during generation: checked against the corrupt prompt's own generation and a hand-indexed copy."""

import pytest
import torch

import musicinterp as mi
from musicinterp.ablation import AblationInputError, generate_patched
from musicinterp.engine.interventions import apply_fn

KW = dict(n_frames=5, seed=0, do_sample=False, decode_audio=False)


@pytest.fixture
def ids(tiny_ids):
    """Clean ids and corrupt ids (the same prompts with other words) of one shape."""
    corrupt = torch.randint(1, 64, tiny_ids.shape, generator=torch.Generator().manual_seed(9))
    return tiny_ids, corrupt


def test_every_cross_head_patched_reproduces_the_corrupt_generation(tiny, ids):
    """Text reaches the decoder through cross-attention only: all of it patched = the corrupt prompt's music."""
    clean, corrupt = ids
    every = [(layer, h) for layer in range(tiny.n_layers) for h in range(tiny.n_heads)]
    res = generate_patched(tiny, clean, corrupt, site="cross_z", heads=every, record_logits=True, **KW)
    oracle = mi.generate(tiny, input_ids=torch.cat([corrupt, corrupt]), **KW)
    plain = mi.generate(tiny, input_ids=torch.cat([clean, corrupt]), **KW)
    assert torch.equal(res.patched.codes, oracle.codes[:2])
    assert torch.equal(res.corrupt.codes, plain.codes[2:])
    assert not torch.equal(res.patched.codes, plain.codes[:2])
    # guided decoder rows [clean | corrupt] twice: the clean rows' logits are the corrupt rows'
    assert res.patched.logits.shape[1:] == res.corrupt.logits.shape[1:] == (4, tiny.n_codebooks, tiny.codebook_size)
    torch.testing.assert_close(res.patched.logits, res.corrupt.logits, atol=1e-5, rtol=0)


def test_some_heads_equal_a_hand_indexed_copy(tiny, ids):
    """Patching two heads of layer 1 == copying rows B..2B-1 into 0..B-1 (and 3B.. into 2B..) by hand."""
    clean, corrupt = ids
    b = clean.shape[0]

    def by_hand(x, ctx):  # x: every decoder row (guided: 4B rows), heads 2 and 3 only
        x = x.clone()
        x[0:b] = x[b:2 * b]
        x[2 * b:3 * b] = x[3 * b:4 * b]
        return x

    both = torch.cat([clean, corrupt])
    res = generate_patched(tiny, clean, corrupt, site="attn_z", heads=[(1, 3), (1, 2)], record_logits=True, **KW)
    oracle = mi.generate(tiny, input_ids=both, record_logits=True, **KW,
                         interventions=[apply_fn("attn_z", 1, by_hand, heads=[2, 3], rows="both", positions="all")])
    plain = mi.generate(tiny, input_ids=both, record_logits=True, **KW)
    assert torch.equal(res.patched.codes, oracle.codes[:b])
    clean_rows = torch.cat([oracle.logits[:, :b], oracle.logits[:, 2 * b:3 * b]], dim=1)
    torch.testing.assert_close(res.patched.logits, clean_rows, atol=0, rtol=0)
    assert not torch.allclose(res.patched.logits, torch.cat([plain.logits[:, :b], plain.logits[:, 2 * b:3 * b]], 1))


def test_unconditional_rows_of_cross_attention_hold_nothing_to_patch(tiny, ids):
    """Under the null condition every cross_z head outputs 0 in both runs: patching those rows changes nothing."""
    clean, corrupt = ids
    every = [(layer, h) for layer in range(tiny.n_layers) for h in range(tiny.n_heads)]
    res = generate_patched(tiny, clean, corrupt, site="cross_z", heads=every, rows="uncond", **KW)
    plain = mi.generate(tiny, input_ids=torch.cat([clean, corrupt]), **KW)
    assert torch.equal(res.patched.codes, plain.codes[:2])


def test_whole_layers_and_texts(tiny, ids):
    clean, corrupt = ids
    res = generate_patched(tiny, clean, corrupt, site="cross_z", layers=list(range(tiny.n_layers)), **KW)
    oracle = mi.generate(tiny, input_ids=torch.cat([corrupt, corrupt]), **KW)
    assert torch.equal(res.patched.codes, oracle.codes[:2])


def test_bad_inputs_fail_clearly(tiny, ids):
    clean, corrupt = ids
    with pytest.raises(AblationInputError, match="corrupt: token ids of shape"):
        generate_patched(tiny, clean, corrupt[:, :3], heads=[(0, 1)], **KW)
    with pytest.raises(AblationInputError, match="corrupt: give clean and corrupt both"):
        generate_patched(tiny, clean, ["drums"], heads=[(0, 1)], **KW)
    with pytest.raises(AblationInputError, match="corrupt: 1 prompts for 2"):
        generate_patched(tiny, ["a", "b"], ["c"], heads=[(0, 1)], **KW)
    with pytest.raises(AblationInputError, match="text: generate_patched takes"):
        generate_patched(tiny, clean, corrupt, heads=[(0, 1)], text=["x"], **KW)
    with pytest.raises(AblationInputError, match="interventions:"):
        generate_patched(tiny, clean, corrupt, heads=[(0, 1)], interventions=[], **KW)
    with pytest.raises(AblationInputError, match="rows must be one of"):
        generate_patched(tiny, clean, corrupt, heads=[(0, 1)], rows="all", **KW)
    with pytest.raises(AblationInputError, match="heads: head index 9 out of range"):
        generate_patched(tiny, clean, corrupt, heads=[(0, 9)], **KW)
    with pytest.raises(AblationInputError, match="give heads="):
        generate_patched(tiny, clean, corrupt, **KW)
