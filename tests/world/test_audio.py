import pytest

from musicinterp.world import AudioWorld, WorldError


def test_tasks_are_neutral_and_opposite_text_prompts():
    text, opposite = AudioWorld().tasks("drums", n=4, new_frames=30)
    assert (text.name, opposite.name) == ("text", "text-opposite") and not text.is_continuation
    assert len(text.kwargs["text"]) == len(opposite.kwargs["text"]) == 4
    for neutral, opp in zip(text.kwargs["text"], opposite.kwargs["text"], strict=True):
        assert "drums" not in neutral and opp == f"{neutral}, no drums"
    assert text.kwargs["n_frames"] == 30
    _, removing = AudioWorld().tasks("drums", n=2, add=False)
    assert all(p.endswith(", drums") for p in removing.kwargs["text"])


def test_concepts_judges_and_words(tiny):
    world = tiny.world
    assert isinstance(world, AudioWorld) and not world.exact
    assert [j.concept for j in world.judges()] == list(world.concepts) == ["drums", "tempo", "timbre", "bass"]
    assert [j.name for j in world.continuity_judges()] == ["kept:audio-key", "kept:audio-tempo"]
    assert world.words("timbre") == ("a bright sound", "a dark sound") and world.grammar_report(None) is None
    with pytest.raises(WorldError, match="unknown concept 'piano' in the audio world"):
        world.words("piano")


def test_a_clap_model_puts_its_zero_shot_judges_first():
    from tests.judges.test_clap_model import tiny_handle

    world = AudioWorld(clap=tiny_handle())
    names = [j.name for j in world.judges()]
    assert names[:4] == ["clap:drums", "clap:tempo", "clap:timbre", "clap:bass"] and len(names) == 8
    drums = world.judges()[0]
    assert drums.positive_prompts[1] == "music with drums" and drums.negative_prompts[1] == "music with no drums"


def test_no_clap_in_the_cache_means_librosa_judges_only(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    world = AudioWorld()
    assert world.clap is None and [j.name for j in world.judges()][0] == "audio:percussive"
