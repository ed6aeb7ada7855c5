"""Every public name is documented in docs/reference.md, and the page is current."""

from pathlib import Path

import musicinterp as mi

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_every_public_name_is_in_the_reference():
    text = PAGE.read_text()
    missing = [name for name in mi.__all__ if f"`mi.{name}`" not in text]
    assert not missing, f"not in docs/reference.md: {missing} (run python -m musicinterp.reference)"


def test_every_public_name_exists():
    assert [n for n in mi.__all__ if not hasattr(mi, n)] == []
