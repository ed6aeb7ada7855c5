"""Teacher-forced inputs: argument checks, CFG row blocks, cell-major batches that reproduce the plain forward,
and per-frame log-probs on the guided branch."""

import pytest
import torch

from musicinterp.ablation.inputs import (
    AblationInputError,
    TeacherForced,
    as_inputs,
    cell_kwargs,
    encode_text,
    frame_logprobs,
    teacher_forced,
)


def test_guided_branch_scores_guided_logits(tiny, tiny_guided):
    logits = tiny.forward_logits(tiny_guided.codes, tiny_guided.cond, cfg_rows=True)
    got = frame_logprobs(tiny, tiny_guided, logits)[0]
    c, u = logits[:2], logits[2:]
    oracle = torch.log_softmax(tiny.logits_to_frames(u + 3.0 * (c - u), 10).float(), -1)
    torch.testing.assert_close(got, oracle)


def test_teacher_forced_inputs_check_their_arguments(tiny):
    codes = torch.randint(0, 2048, (2, 4, 8))
    with pytest.raises(AblationInputError, match="codes: codes must be"):
        teacher_forced(tiny, codes[:, :3])
    with pytest.raises(AblationInputError, match="branch must be"):
        teacher_forced(tiny, codes, branch="both")
    assert teacher_forced(tiny, codes).branch == "uncond"


def test_rows_of_a_cell_block(tiny, tiny_inputs, tiny_guided):
    assert tiny_guided.rows_per_cell == 4 and tiny_inputs.rows_per_cell == 2
    assert (tiny_guided.row_slice("cond"), tiny_guided.row_slice("uncond"), tiny_guided.row_slice("both")) == (
        slice(0, 2), slice(2, 4), slice(0, 4))
    assert tiny_inputs.row_slice("cond") == tiny_inputs.row_slice("both") == slice(0, 2)
    with pytest.raises(AblationInputError, match="rows='uncond' needs branch='guided'"):
        tiny_inputs.row_slice("uncond")
    with pytest.raises(AblationInputError, match="rows must be 'cond', 'uncond' or 'both'"):
        tiny_guided.row_slice("all")
    assert (tiny_inputs.batch, tiny_inputs.n_frames, tiny_inputs.guided) == (2, 10, False)
    assert repr(tiny_guided) == "TeacherForced(clips: 2 x 4 x 10 frames, branch=guided)"


def test_conditioning_follows_the_branch(tiny, tiny_ids):
    codes = torch.randint(0, 2048, (2, 4, 6), generator=torch.Generator().manual_seed(0))
    cond = teacher_forced(tiny, codes, input_ids=tiny_ids)
    assert cond.branch == "cond" and torch.equal(cond.cond.input_ids, tiny_ids)
    assert int(cond.cond.attention_mask.sum()) == tiny_ids.numel()
    null = teacher_forced(tiny, codes, input_ids=tiny_ids, branch="uncond")
    assert int(null.cond.attention_mask.sum()) == 0  # the null condition, whatever text was given
    one = teacher_forced(tiny, codes[0], input_ids=tiny_ids[:1], guidance_scale=5)
    assert one.codes.shape == (1, 4, 6) and one.guidance_scale == 5.0
    with pytest.raises(AblationInputError, match="text has 2 prompts for 3 clips"):
        teacher_forced(tiny, torch.zeros(3, 4, 6, dtype=torch.long), text=["a", "b"])
    with pytest.raises(AblationInputError, match="give exactly one of codes= or audio="):
        teacher_forced(tiny)
    with pytest.raises(AblationInputError, match="conditioning has 2 rows but codes have 1"):
        TeacherForced(codes[:1], cond.cond)
    swapped = cond.with_codes(codes.flip(0))
    assert swapped.cond is cond.cond and swapped.branch == "cond" and torch.equal(swapped.codes, codes.flip(0))


def test_as_inputs_accepts_codes_and_names_the_argument(tiny, tiny_inputs):
    assert as_inputs(tiny, tiny_inputs) is tiny_inputs
    two_d = as_inputs(tiny, tiny_inputs.codes[0])
    assert two_d.codes.shape == (1, 4, 10) and two_d.branch == "uncond"
    with pytest.raises(AblationInputError, match="corrupt: codes: codes must be"):
        as_inputs(tiny, tiny_inputs.codes[:, :2], "corrupt")
    with pytest.raises(AblationInputError, match="data must be TeacherForced inputs, codes .* got dict"):
        as_inputs(tiny, {"codes": tiny_inputs.codes})
    with pytest.raises(AblationInputError, match="data: codes hold ids outside"):
        as_inputs(tiny, tiny_inputs.with_codes(tiny_inputs.codes + 4096))


@pytest.mark.parametrize("guided", [False, True])
def test_cell_blocks_reproduce_the_plain_forward(tiny, tiny_inputs, tiny_guided, guided):
    inputs = tiny_guided if guided else tiny_inputs
    one = tiny.forward_logits(inputs.codes, inputs.cond, cfg_rows=guided)  # (R, K, T+K, V)
    for hidden in (None, encode_text(tiny, inputs)):
        with torch.no_grad():
            out = tiny.hf(**cell_kwargs(tiny, inputs, 3, encoder_hidden=hidden)).logits
        cells = out.reshape(3, inputs.rows_per_cell, tiny.n_codebooks, *out.shape[1:])
        for c in range(3):
            torch.testing.assert_close(cells[c], one, atol=1e-5, rtol=0)


def test_frame_logprobs_of_unguided_cells(tiny, tiny_inputs):
    logits = torch.randn(3 * 2, 4, 14, 2049, generator=torch.Generator().manual_seed(0))
    got = frame_logprobs(tiny, tiny_inputs, logits)
    assert got.shape == (3, 2, 4, 10, 2049)
    # cell 1, clip 0, codebook 2, frame 5 is decoder position 5 + 2 of row 1 * 2 + 0
    torch.testing.assert_close(got[1, 0, 2, 5], torch.log_softmax(logits[2, 2, 7], -1))
