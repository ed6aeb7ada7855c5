import pytest
import torch

from musicinterp.models.delay import apply_delay, emit_step, frames_to_new_tokens, undo_delay, valid_positions


def test_delay_round_trip():
    codes = torch.randint(0, 2048, (3, 4, 17))
    delayed = apply_delay(codes, pad_id=2048)
    assert delayed.shape == (3, 4, 21)
    assert torch.equal(undo_delay(delayed), codes)


def test_delay_layout_matches_musicgen():
    codes = torch.arange(1, 6).repeat(1, 4, 1)  # (1, 4, 5)
    d = apply_delay(codes, pad_id=99)[0]
    assert d[:, 0].tolist() == [99, 99, 99, 99]  # BOS column
    for k in range(4):
        assert d[k, : k + 1].eq(99).all() and d[k, k + 1 : k + 6].tolist() == [1, 2, 3, 4, 5]
        assert d[k, k + 6 :].eq(99).all()


def test_delay_matches_transformers_builder(tiny):
    codes = torch.randint(0, 2048, (2, 4, 9))
    start = torch.cat([torch.full((8, 1), 2048), codes.reshape(8, 9)], dim=1)
    _, mask = tiny.hf.decoder.build_delay_pattern_mask(start, 2048, max_length=13)
    assert torch.equal(mask.reshape(2, 4, 13), apply_delay(codes, 2048))


def test_emit_step_is_where_the_delayed_sequence_holds_the_frame():
    codes = torch.arange(4 * 9).reshape(1, 4, 9)
    delayed = apply_delay(codes, pad_id=-1)  # column 0 is BOS; generation step s writes column s + 1
    for k in range(4):
        for f in range(9):
            assert delayed[0, k, emit_step(k, f) + 1] == codes[0, k, f]


def test_valid_positions_and_steps():
    assert list(valid_positions(10, 4)) == list(range(4, 11))
    assert len(valid_positions(3, 4)) == 0
    assert frames_to_new_tokens(200, 4) == 203


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(B, K, T\)"):
        apply_delay(torch.zeros(4, 5, dtype=torch.long), 2048)
