import pytest

from musicinterp.world import AudioWorld, WorldError


def test_tasks_are_neutral_and_opposite_text_prompts():
    text, opposite = AudioWorld().tasks("drums", n=4, new_frames=30)
    assert (text.name, opposite.name) == ("text", "text-opposite") and not text.is_continuation
    assert len(text.kwargs["text"]) == len(opposite.kwargs["text"]) == 4
    for neutral, opp in zip(text.kwargs["text"], opposite.kwargs["text"], strict=True):
        assert "drums" not in neutral and opp == f"{neutral}, without drums"
    assert text.kwargs["n_frames"] == 30
    _, removing = AudioWorld().tasks("drums", n=2, add=False)
    assert all(p.endswith(", with drums") for p in removing.kwargs["text"])


def test_concepts_judges_and_words(tiny):
    world = tiny.world
    assert isinstance(world, AudioWorld) and not world.exact
    assert [j.concept for j in world.judges()] == list(world.concepts) == ["drums", "tempo", "timbre", "bass"]
    assert [j.name for j in world.continuity_judges()] == ["kept:audio-key", "kept:audio-tempo"]
    assert world.words("timbre") == ("bright", "dark") and world.grammar_report(None) is None
    with pytest.raises(WorldError, match="unknown concept 'piano' in the audio world"):
        world.words("piano")
