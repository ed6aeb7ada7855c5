"""The stems builder: with/without mixes of audible segments, names made of folder names."""

import numpy as np
import pytest
import soundfile as sf

from musicinterp.data.manifest import load_manifest, to_concept_set
from musicinterp.data.stems import build_stem_manifest


def test_stems_builder_mixes_with_and_without(tmp_path):
    sr = 16000
    t = np.arange(3 * sr) / sr
    for track in ("song1", "song2"):
        d = tmp_path / "stems" / track
        d.mkdir(parents=True)
        drums = np.where((t % 0.5) < 0.05, 0.5, 0.0) * np.random.default_rng(0).standard_normal(len(t))
        if track == "song2":
            drums[: 2 * sr] = 0  # silent drums in the first two seconds
        sf.write(d / "drums.wav", drums, sr)
        sf.write(d / "bass.wav", 0.3 * np.sin(2 * np.pi * 55 * t), sr)
        sf.write(d / "mixture.wav", drums, sr)  # ignored
    path = build_stem_manifest(tmp_path / "stems", tmp_path / "out", stem="drums", segment_s=1.0, progress=False)
    m = load_manifest(path)
    groups = {e["group"] for e in m.entries}
    assert len(m.entries) == 2 * len(groups) and len(groups) == 4  # 3 + 1 audible segments
    cs = to_concept_set(m)
    with_, _ = sf.read(cs.audio[0].path)
    without, sr_out = sf.read(cs.audio[1].path)
    assert sr_out == 32000 and len(with_) == 32000
    assert np.abs(with_ - without).max() > 0.1  # drums removed
    assert np.abs(np.fft.rfft(without))[: 80].sum() > 0.5 * np.abs(np.fft.rfft(with_))[:80].sum()  # bass kept


def test_stems_builder_makes_names_of_folder_names(tmp_path):
    from musicinterp.data.audio import AudioError
    from musicinterp.data.names import UnsafeNameError

    sr = 16000
    noise = 0.3 * np.random.default_rng(1).standard_normal(sr)
    for track in ("My Song (live)", "My Song [live]", "../odd"):
        d = tmp_path / "stems" / track.replace("/", "_")
        d.mkdir(parents=True)
        sf.write(d / "drums.wav", noise, sr)
        sf.write(d / "bass.wav", noise, sr)
    m = load_manifest(build_stem_manifest(tmp_path / "stems", tmp_path / "out", segment_s=1.0, progress=False))
    groups = sorted({e["group"] for e in m.entries})
    assert groups == ["My_Song__live_-0000", "My_Song__live_-2-0000", "odd-0000"]  # distinct, "../" dropped
    assert all((tmp_path / "out" / e["path"]).resolve().parent == (tmp_path / "out" / "audio").resolve()
               for e in m.entries)
    with pytest.raises(UnsafeNameError, match="stem: '../drums'"):
        build_stem_manifest(tmp_path / "stems", tmp_path / "out2", stem="../drums", progress=False)
    with pytest.raises(AudioError, match="no track folders with a vocals.wav stem"):
        build_stem_manifest(tmp_path / "stems", tmp_path / "out2", stem="vocals", progress=False)
