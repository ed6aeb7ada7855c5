"""Concept-set digests follow the audio's content: replaced, fixed or moved files, and the cache's cost."""

import os
import time

import numpy as np
import soundfile as sf

from musicinterp.data import content
from musicinterp.data.content import file_content_digest


def _wav(path, seed):
    sf.write(path, np.random.default_rng(seed).standard_normal(32000) * 0.1, 32000, subtype="PCM_16")
    return path


def test_same_size_new_content_changes_the_digest(tmp_path):
    path = _wav(tmp_path / "a.wav", 0)
    first = file_content_digest(path)
    size = path.stat().st_size
    _wav(path, 1)  # same path, same size, other samples
    assert path.stat().st_size == size and file_content_digest(path) != first
    other = tmp_path / "b.wav"
    other.write_bytes(path.read_bytes())
    assert file_content_digest(other) == file_content_digest(path)  # content, not path


def test_missing_and_unreadable_files_change_when_fixed(tmp_path):
    path = tmp_path / "a.wav"
    assert file_content_digest(path) == "missing"
    path.mkdir()
    assert file_content_digest(path).startswith("unreadable")
    path.rmdir()
    _wav(path, 0)
    assert len(file_content_digest(path)) == 64


def test_an_unchanged_file_is_read_once(tmp_path, monkeypatch):
    path = _wav(tmp_path / "a.wav", 0)
    content.clear_cache()
    opened = []
    real_open = open
    monkeypatch.setattr(content, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k), raising=False)
    digest = file_content_digest(path)
    assert file_content_digest(path) == digest and len(opened) == 1
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))  # touched: read again
    assert file_content_digest(path) == digest and len(opened) == 2


def test_cost_of_digesting_a_set(tmp_path):
    """100 clips of 10 s (64 MB of 16-bit WAV): a few hundred ms the first time, milliseconds once cached."""
    paths = []
    for i in range(100):
        paths.append(tmp_path / f"c{i}.wav")
        sf.write(paths[-1], np.zeros(320_000, np.int16), 32000, subtype="PCM_16")
    content.clear_cache()
    t0 = time.perf_counter()
    [file_content_digest(p) for p in paths]
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    [file_content_digest(p) for p in paths]
    warm = time.perf_counter() - t0
    assert warm < 0.1 and warm < cold
