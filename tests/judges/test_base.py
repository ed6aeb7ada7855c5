"""The Judge protocol: results, input checks, and judging several judges on one batch."""

import numpy as np
import pytest
import torch

from musicinterp.judges import BaseJudge, Judge, JudgeInputError, JudgeResult, judge_all, results_frame
from musicinterp.judges.base import as_audio_list, check_sample_rate, decode_codes
from musicinterp.organism import OrganismJudge


class RMSJudge(BaseJudge):
    """An audio judge whose score is the clip's RMS (an oracle is one line of numpy)."""

    name, concept, needs, threshold = "rms", "loudness", "audio", 0.3

    def score_audio(self, audio, sample_rate):
        return [float(np.sqrt(np.mean(a.astype(np.float64) ** 2))) for a in audio]


def test_result_rate_agreement_and_table():
    res = JudgeResult(np.array([0.1, 0.9, 0.5, 0.7]), np.array([False, True, False, True]), "j", 0.6, "c")
    assert res.rate == 0.5 and len(res) == 4
    assert res.agreement([0, 1, 1, 1]) == 0.75
    assert res.agreement(res) == 1.0
    frame = res.to_pandas()
    assert list(frame["score"]) == [0.1, 0.9, 0.5, 0.7] and set(frame["judge"]) == {"j"}
    assert "2/4 present" in repr(res)
    with pytest.raises(JudgeInputError, match="truth has shape"):
        res.agreement([0, 1])
    with pytest.raises(ValueError, match="equal"):
        JudgeResult(np.zeros(3), np.zeros(2, bool), "j", 0.0)


def test_undecided_examples_are_left_out_of_the_rate():
    class SignJudge(BaseJudge):
        name, concept, needs, threshold = "sign", "c", "codes", 0.0

        def score_codes(self, codes):
            return [np.nan if v == 0 else float(v) for v in codes.tolist()]

    res = SignJudge()(torch.tensor([1.0, -1.0, 0.0, 2.0]))
    assert res.decided.tolist() == [True, True, False, True]
    assert res.present.tolist() == [True, False, False, True]
    assert res.rate == pytest.approx(2 / 3)
    assert "1 undecided" in repr(res)
    assert np.isnan(SignJudge()(torch.zeros(3)).rate)


def test_sample_rate_and_audio_checks_name_the_argument():
    assert check_sample_rate(32000.0) == 32000 and check_sample_rate(np.int64(16000)) == 16000
    for bad in (None, 0, -5, 44100.5, True, "32000"):
        with pytest.raises(JudgeInputError, match="sample_rate"):
            check_sample_rate(bad)
    clips = as_audio_list(np.zeros((3, 100), np.float32))
    assert len(clips) == 3 and clips[0].dtype == np.float32
    assert len(as_audio_list(torch.zeros(50))) == 1
    with pytest.raises(JudgeInputError, match=r"audio must be \(samples,\)"):
        as_audio_list(np.zeros((2, 2, 10)))
    with pytest.raises(JudgeInputError, match=r"audio\[0\] must hold float"):
        as_audio_list([np.zeros(10, np.int16)])
    with pytest.raises(JudgeInputError, match="NaN"):
        as_audio_list(np.array([0.0, np.nan]))
    with pytest.raises(JudgeInputError, match="no clips"):
        as_audio_list([])


def test_judges_refuse_the_wrong_input():
    rms = RMSJudge()
    assert isinstance(rms, Judge)
    with pytest.raises(JudgeInputError, match="needs audio"):
        rms()
    with pytest.raises(JudgeInputError, match="decoder=model"):
        rms(torch.zeros(1, 4, 10, dtype=torch.long))
    with pytest.raises(JudgeInputError, match="sample_rate"):
        rms(torch.zeros(1, 4, 10, dtype=torch.long), decoder=lambda c: np.zeros((1, 100), np.float32))
    with pytest.raises(JudgeInputError, match="reads codes, not audio"):
        OrganismJudge("drums")(audio=np.zeros(100, np.float32), sample_rate=16000)


def test_audio_judge_scores_match_numpy_and_the_threshold_decides():
    audio = np.stack([np.full(200, a, np.float32) for a in (0.1, 0.5, -0.4)])
    res = RMSJudge()(audio=audio, sample_rate=8000)
    np.testing.assert_allclose(res.scores, [0.1, 0.5, 0.4], rtol=1e-6)
    assert res.present.tolist() == [False, True, True]
    assert res.scores.dtype == np.float64 and res.threshold == 0.3


def test_judge_all_decodes_codes_once_for_every_audio_judge():
    calls = []

    def decoder(codes):
        calls.append(codes.shape)
        return np.stack([np.full(100, float(c[0, 0]) / 10, np.float32) for c in codes])

    codes = torch.zeros(2, 4, 30, dtype=torch.long)
    codes[1, 0, 0] = 5
    codes[1, 1] = 3  # drum hits in every frame of clip 1
    second = RMSJudge()
    second.name = "rms2"
    results = judge_all([RMSJudge(), second, OrganismJudge("drums")], codes, decoder=decoder, sample_rate=1000)
    assert len(calls) == 1
    assert results["rms"].present.tolist() == [False, True]
    np.testing.assert_allclose(results["rms2"].scores, [0.0, 0.5])
    assert results["organism:drums"].present.tolist() == [False, True]
    frame = results_frame(results)
    assert len(frame) == 6 and set(frame["judge"]) == {"rms", "rms2", "organism:drums"}


def test_decode_codes_uses_a_models_codec_and_rate():
    class Codec:
        sample_rate = 24000

        def codes_to_audio(self, codes):
            return np.ones((codes.shape[0], 48), np.float32)

    clips, rate = decode_codes(torch.zeros(3, 4, 5, dtype=torch.long), Codec(), None)
    assert rate == 24000 and len(clips) == 3 and clips[0].shape == (48,)
    with pytest.raises(JudgeInputError, match="decoder must be"):
        decode_codes(torch.zeros(1, 4, 5), 42, 16000)
