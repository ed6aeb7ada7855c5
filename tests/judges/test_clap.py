"""CLAP judges and offline loading: the judge protocol, scores, calibration, adherence, missing and refused models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musicinterp.errors import MusicInterpError
from musicinterp.judges import Judge, JudgeInputError, JudgeResult, PercussionJudge, judge_all
from musicinterp.judges import clap as clap_mod
from musicinterp.judges.clap import (
    NEUTRAL_PROMPT,
    ClapConceptJudge,
    ClapTextAdherence,
    clap_judges,
    load_clap,
)
from musicinterp.judges.clap_model import ClapFileError, ClapHandle, ClapNotFoundError, DegenerateTextError
from tests.judges.test_clap_model import noise, tiny_handle

SR = 32000


@pytest.fixture(scope="module")
def handle():
    return tiny_handle()


@pytest.fixture(scope="module")
def saved(handle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-clap")
    handle.model.save_pretrained(folder)
    handle.feature_extractor.save_pretrained(folder)
    handle.tokenizer.save_pretrained(folder)
    return folder


def clips(n: int = 2, seconds: float = 2.0) -> list[np.ndarray]:
    return [noise(seconds, rate=SR, seed=10 + i) for i in range(n)]


def fake_embeddings(monkeypatch, handle, table: np.ndarray) -> None:
    """Clip i embeds as table[round(clip[0] * 100)]: exact control over audio embeddings."""
    def embed(self, audio, sample_rate):
        return np.stack([table[int(round(float(c[0]) * 100))] for c in audio])

    monkeypatch.setattr(ClapHandle, "embed_audio", embed)


def test_missing_checkpoint_names_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ClapNotFoundError) as err:
        load_clap("laion/clap-htsat-unfused")
    text = str(err.value)
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, MusicInterpError)
    assert str(tmp_path / "hf" / "hub" / "models--laion--clap-htsat-unfused") in text
    assert "hf download laion/clap-htsat-unfused" in text and "local folder" in text


def test_saved_folder_loads_and_embeds_like_the_model_in_memory(handle, saved):
    loaded = load_clap(saved)
    assert loaded.tokenizer is not None and loaded.sample_rate == 48000 and loaded.text_spread < 0.99
    x = clips(1)
    np.testing.assert_allclose(loaded.embed_audio(x, SR), handle.embed_audio(x, SR), atol=1e-5)
    np.testing.assert_allclose(loaded.embed_text(["music with drums"]), handle.embed_text(["music with drums"]),
                               atol=1e-5)


def test_named_checkpoints_resolve_to_their_folder(saved, monkeypatch):
    monkeypatch.setitem(clap_mod.CLAP_CHECKPOINTS, "tiny", lambda: saved)
    assert load_clap("tiny").window_seconds == 10.0
    monkeypatch.setitem(clap_mod.CLAP_CHECKPOINTS, "gone", saved / "absent")
    with pytest.raises(ClapNotFoundError, match="named CLAP checkpoints: gone, (organism, )?tiny"):
        load_clap("gone")


def test_folder_without_extractor_or_tokenizer_uses_defaults(handle, tmp_path):
    handle.model.save_pretrained(tmp_path)
    with pytest.warns(UserWarning, match="no preprocessor_config.json"):
        loaded = load_clap(tmp_path)
    assert loaded.tokenizer is None and loaded.feature_extractor.truncation == "rand_trunc"


def test_folder_without_a_model_is_a_file_error(tmp_path):
    with pytest.raises(ClapFileError, match="loadable ClapModel"):
        load_clap(tmp_path)


def test_larger_clap_music_is_refused_by_name(tmp_path):
    with pytest.raises(DegenerateTextError, match="larger_clap_general"):
        load_clap("laion/larger_clap_music")
    (tmp_path / "larger_clap_music").mkdir()
    with pytest.raises(DegenerateTextError, match="allow_degenerate_text"):
        load_clap(tmp_path / "larger_clap_music")


def test_concept_judge_follows_the_judge_protocol(handle):
    judge = ClapConceptJudge(handle, "drums", "drums", "no drums")
    assert isinstance(judge, Judge) and judge.needs == "audio" and judge.name == "clap:drums"
    result = judge(audio=clips(3), sample_rate=SR)
    assert isinstance(result, JudgeResult) and len(result) == 3 and result.concept == "drums"
    assert result.scores.dtype == np.float64 and result.threshold == 0.0
    np.testing.assert_array_equal(result.present, result.scores > 0.0)


def test_judges_drop_into_judge_all_with_a_decoder(handle):
    class Decoder:
        sample_rate = SR

        def codes_to_audio(self, codes):
            return torch.stack([torch.as_tensor(c) for c in clips(codes.shape[0])])

    judges = [*clap_judges(handle, {"drums": ("drums", "no drums"), "bass": "bass"}), PercussionJudge()]
    out = judge_all(judges, torch.zeros(2, 4, 10, dtype=torch.long), decoder=Decoder())
    assert set(out) == {"clap:drums", "clap:bass", "audio:percussive"}
    assert all(len(r) == 2 for r in out.values())
    direct = judges[0](audio=clips(2), sample_rate=SR)
    np.testing.assert_array_equal(out["clap:drums"].scores, direct.scores)


def test_score_is_the_mean_cosine_margin_over_templates(handle):
    judge = ClapConceptJudge(handle, "drums", "drums", None, templates=("{}", "music with {}"))
    assert judge.positive_prompts == ("drums", "music with drums")
    assert judge.negative_prompts == (NEUTRAL_PROMPT, NEUTRAL_PROMPT)
    x = clips(2)
    a = handle.embed_audio(x, SR)
    pos, neg = handle.embed_text(list(judge.positive_prompts)), handle.embed_text([NEUTRAL_PROMPT])
    expected = ((a @ pos.T).mean(1) - (a @ neg.T)[:, 0])
    np.testing.assert_allclose(judge(audio=x, sample_rate=SR).scores, expected, atol=1e-6)


def test_scores_are_deterministic(handle):
    judge = ClapConceptJudge(handle, "drums", "drums", "no drums")
    h = ClapHandle(handle.model, handle.feature_extractor, handle.tokenizer, cache_size=0)
    fresh = ClapConceptJudge(h, "drums", "drums", "no drums")
    x = [noise(12.0, rate=SR, seed=5)]
    np.random.seed(0)
    first = fresh(audio=x, sample_rate=SR).scores
    np.random.seed(1)
    np.testing.assert_array_equal(fresh(audio=x, sample_rate=SR).scores, first)
    np.testing.assert_allclose(judge(audio=x, sample_rate=SR).scores, first, atol=1e-6)


def test_calibrate_reaches_full_balanced_accuracy_on_separable_clips(handle, monkeypatch):
    judge = ClapConceptJudge(handle, "drums", "drums", "no drums", templates=("{}",))
    pos, neg = judge.text_embeddings()
    direction = pos[0] - neg[0]
    table = np.stack([pos[0] + 0.1 * i * direction if i < 4 else neg[0] - 0.1 * (i - 4) * direction
                      for i in range(8)])
    fake_embeddings(monkeypatch, handle, table)
    audio = [np.full(SR, i / 100, np.float32) for i in range(8)]
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    cal = judge.calibrate(audio, labels, SR)
    assert cal.balanced_accuracy == 1.0 and judge.threshold == cal.threshold
    assert judge(audio=audio, sample_rate=SR).agreement(labels) == 1.0


def test_adherence_scores_each_clip_against_its_own_prompt(handle):
    prompts = ["music with drums", "a solo piano melody"]
    judge = ClapTextAdherence(handle, prompts)
    x = clips(2)
    result = judge(audio=x, sample_rate=SR)
    expected = (handle.embed_audio(x, SR) * handle.embed_text(prompts)).sum(1)
    np.testing.assert_allclose(result.scores, expected, atol=1e-6)
    assert result.name == "clap:adherence" and result.concept == "adherence"
    shared = ClapTextAdherence(handle, "music with drums")(audio=x, sample_rate=SR).scores
    np.testing.assert_allclose(shared[0], expected[0], atol=1e-6)
    with pytest.raises(JudgeInputError, match="3 clips but 2 prompts"):
        judge(audio=clips(3), sample_rate=SR)


def test_adherence_calibrates_against_mismatched_prompts(handle, monkeypatch):
    prompts = ["music with drums", "a solo piano melody", "a dog barking"]
    judge = ClapTextAdherence(handle, prompts)
    text = judge.prompt_embeddings(3)
    fake_embeddings(monkeypatch, handle, text)  # each clip embeds exactly as its own prompt
    audio = [np.full(SR, i / 100, np.float32) for i in range(3)]
    cal = judge.calibrate_by_mismatch(audio, SR)
    assert cal.balanced_accuracy == 1.0 and (cal.n_positive, cal.n_negative) == (3, 3)
    assert judge(audio=audio, sample_rate=SR).present.all()


def test_bad_templates_and_prompts_are_refused(handle):
    with pytest.raises(JudgeInputError, match="one '{}'"):
        ClapConceptJudge(handle, "drums", templates=("music",))
    with pytest.raises(JudgeInputError, match="prompts must be"):
        ClapTextAdherence(handle, [])
    with pytest.raises(JudgeInputError, match="at least two different"):
        ClapTextAdherence(handle, ["music", "music"]).calibrate_by_mismatch(clips(2), SR)
