import pytest

from musicinterp.models.rows import row_slice


def test_rows_of_a_guided_and_an_unguided_batch():
    # under guidance a batch of 3 prompts runs 6 decoder rows: 0-2 conditional, 3-5 unconditional
    rows = list(range(6))
    assert rows[row_slice("cond", 3, cfg=True)] == [0, 1, 2]
    assert rows[row_slice("uncond", 3, cfg=True)] == [3, 4, 5]
    assert rows[row_slice("both", 3, cfg=True)] == rows
    assert rows[:3][row_slice("cond", 3, cfg=False)] == [0, 1, 2]
    assert rows[:3][row_slice("both", 3, cfg=False)] == [0, 1, 2]
    assert rows[:3][row_slice("uncond", 3, cfg=False)] == []  # no unconditional rows without guidance
    with pytest.raises(ValueError, match="rows must be one of"):
        row_slice("conditional", 3, cfg=True)
