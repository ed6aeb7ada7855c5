"""Every public name is documented in docs/reference.md, and the page is current."""

from pathlib import Path

import musicinterp as mi

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference.md"


def test_every_public_name_is_in_the_reference():
    text = PAGE.read_text()
    missing = [name for name in mi.__all__ if f"`mi.{name}`" not in text]
    assert not missing, f"not in docs/reference.md: {missing} (run python -m musicinterp.reference)"


def test_every_public_name_exists():
    assert [n for n in mi.__all__ if not hasattr(mi, n)] == []


def test_the_generator_writes_one_section_per_public_name_in_order():
    from musicinterp.reference import reference_markdown

    text = reference_markdown()
    headings = [line[len("### `mi.") : -1] for line in text.splitlines() if line.startswith("### `mi.")]
    assert headings == sorted(mi.__all__, key=str.lower)
    assert "*function* `load_model(spec:" in text and "*module*" in text


def test_every_public_function_of_sae_and_ablation_is_listed_with_its_signature():
    import inspect

    text = PAGE.read_text()
    for mod in (mi.sae, mi.ablation):
        short = mod.__name__.split(".")[-1]
        for name in mod.__all__:
            obj = getattr(mod, name)
            assert f"#### `mi.{short}.{name}`" in text, f"mi.{short}.{name} not in docs/reference.md"
            if inspect.isfunction(obj):
                assert f"`{name}{inspect.signature(obj)}`" in text, f"mi.{short}.{name}: signature missing or stale"

