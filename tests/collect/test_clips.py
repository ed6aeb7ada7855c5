import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from musicinterp import trace_codes
from musicinterp.collect import collect
from musicinterp.data.concept_set import AudioRef, ConceptSet
from musicinterp.store import StoreError
from musicinterp.store import layout as LY
from musicinterp.store.errors import BadEntryError, StoreRequestMismatchError
from tests.store.conftest import random_set


def test_round_trip_equals_traced_values(tiny, rset, tmp_path):
    with pytest.warns(UserWarning, match="memory budget"):
        store = collect(tiny, rset, ["attn_z", "resid"], out=tmp_path / "s", memory_budget_mb=0.05,
                        progress=False)
    assert len(store.meta["chunks"]) > 1  # the budget forced several chunks
    ref = trace_codes(tiny, rset.codes, read=["attn_z", "resid"], frames="valid", logits=False)
    for site in ("attn_z", "resid"):
        for layer in range(tiny.n_layers):
            got = store.read_frames(site, layer)
            want = ref.activations[site][:, layer].reshape(-1, *tiny.site_shape(site))
            assert torch.equal(got, want)
    pv = store.probe_view("attn_z", "mean")
    assert torch.allclose(pv.x, ref.activations["attn_z"].mean(2), atol=1e-6)
    last = store.probe_view("resid", "last")
    assert torch.equal(last.x, ref.activations["resid"][:, :, -1])
    idx = store.index
    assert idx.num_rows == 12 * 11 and set(idx.column("branch").to_pylist()) == {"uncond"}
    assert idx.column("position").to_pylist()[:11] == list(range(4, 15))


def test_statistics_equal_direct_computation(tiny, rset, tmp_path):
    store = collect(tiny, rset, ["resid"], out=tmp_path / "s", batch_size=5, progress=False)
    assert len(store.meta["chunks"]) == 3
    x = torch.stack([store.read_frames("resid", layer) for layer in range(2)], dim=1).double()  # (rows, L, D)
    st = store.stats("resid")
    assert st.count == x.shape[0]
    assert torch.allclose(st.mean, x.mean(0), atol=1e-9)
    assert torch.allclose(st.var, x.var(0, unbiased=False), atol=1e-9)
    drums = torch.tensor(store.index.column("label_drums").to_pylist())
    assert torch.allclose(st.class_mean("drums", 1), x[drums == 1].mean(0), atol=1e-9)
    assert torch.allclose(st.class_mean("tempo", 0), x[torch.tensor(store.index.column("label_tempo")
                                                                     .to_pylist()) == 0].mean(0), atol=1e-9)


def test_other_frame_policies_store_the_traced_positions(tiny, rset, tmp_path):
    for frames, positions in (("all", list(range(18))), ("last", [14]), ((2, 5), [6, 7, 8])):
        store = collect(tiny, rset, ["attn_z"], out=tmp_path / str(frames), frames=frames, batch_size=4,
                        progress=False)
        ref = trace_codes(tiny, rset.codes, read=["attn_z"], frames="all", logits=False).activations["attn_z"]
        got = store.read_frames("attn_z", 1).reshape(12, len(positions), 4, 16)
        assert torch.equal(got, ref[:, 1, positions])
        assert store.index.column("position").to_pylist()[: len(positions)] == positions
        assert torch.allclose(store.probe_view("attn_z").x, ref[:, :, 4:15].mean(2), atol=1e-6)




def test_folder_that_is_not_a_store_is_refused(tiny, rset, tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="is not a store"):
        collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False)
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine"




def test_no_sites_is_refused(tiny, rset, tmp_path):
    with pytest.raises(StoreError, match="no sites requested"):
        collect(tiny, rset, [], out=tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()


def test_grouped_stratified_split(tiny, tmp_path):
    cs = random_set(n=40)
    store = collect(tiny, cs, ["resid"], out=tmp_path / "s", frames="pooled", progress=False)
    pv = store.probe_view("resid")
    by_group = {}
    for g, s in zip(pv.groups, pv.splits, strict=True):
        by_group.setdefault(g, set()).add(s)
    assert all(len(v) == 1 for v in by_group.values())
    val = [i for i, s in enumerate(pv.splits) if s == "val"]
    assert len(val) == 8 and pv.labels["drums"][val].mean() == 0.5
    with pytest.raises(StoreError, match="no frame shards"):
        store.read_frames("resid", 0)
    assert torch.allclose(store.stats("resid").mean, pv.x.double().mean(0), atol=1e-6)


def test_duplicate_ids_and_single_class_are_named(tiny, tmp_path):
    with pytest.raises(ValueError, match="duplicate ids: \\['c1'\\]"):
        ConceptSet("d", {"x": torch.tensor([0, 1, 1])}, ["c0", "c1", "c1"], ["a", "b", "c"],
                   codes=torch.zeros(3, 4, 8, dtype=torch.long))
    one = ConceptSet("one", {"x": torch.tensor([1, 1])}, ["a", "b"], ["a", "b"],
                     codes=torch.zeros(2, 4, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="concept 'x' in set 'one' has a single class"):
        collect(tiny, one, ["resid"], out=tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()
    with pytest.raises(ValueError, match="unknown frame spec 'middle'"):
        collect(tiny, random_set(), ["resid"], out=tmp_path / "s", frames="middle", progress=False)


def _audio_set(tmp_path: Path) -> ConceptSet:
    t = np.arange(int(0.4 * 44100)) / 44100
    refs, labels = [], []
    for i in range(6):
        path = tmp_path / f"clip{i}.wav"
        wave = np.sin(2 * np.pi * (200 + 50 * i) * t) * 0.3
        sf.write(path, np.stack([wave, wave * 0.5], 1) if i == 0 else wave, 44100 if i < 3 else 32000)
        refs.append(AudioRef(str(path)))
        labels.append(i % 2)
    (tmp_path / "empty.wav").write_bytes(b"")
    sf.write(tmp_path / "silent0.wav", np.zeros((0,)), 32000)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF1234WAVEfmt garbage")
    for name in ("missing.wav", "silent0.wav", "corrupt.wav"):
        refs.append(AudioRef(str(tmp_path / name)))
        labels.append(0)
    n = len(refs)
    return ConceptSet("audio", {"drums": torch.tensor(labels)}, [f"a{i}" for i in range(n)],
                      [f"a{i}" for i in range(n)], audio=refs)


def test_audio_entries_bad_input_and_skipping(tiny, tmp_path):
    cs = _audio_set(tmp_path)
    with pytest.raises(BadEntryError, match="entry 'a6': audio file not found: .*missing.wav"):
        collect(tiny, cs, ["resid"], out=tmp_path / "s", progress=False)
    assert not (tmp_path / "s" / "metadata.json").exists()
    store = collect(tiny, cs, ["resid"], out=tmp_path / "s2", skip_bad=True, progress=False)
    skipped = {s["id"]: s["reason"] for s in store.meta["skipped"]}
    assert set(skipped) == {"a6", "a7", "a8"}
    assert "no samples" in skipped["a7"] and "cannot read" in skipped["a8"]
    clips = store.clips.to_pylist()
    assert len(clips) == 6 and clips[0]["downmixed_from"] == 2 and clips[0]["resampled_from"] == 44100
    assert clips[4]["resampled_from"] is None and clips[0]["n_frames"] == 20


def test_non_finite_activations_are_named(tiny, rset, tmp_path, monkeypatch):
    from musicinterp.collect import trace as T

    real = T.read_layers

    def poisoned(model, codes, **kw):
        values = real(model, codes, **kw)
        values["resid"][0][0, 5, 0] = float("nan")  # layer 0, first clip of each batch
        return values

    monkeypatch.setattr(T, "read_layers", poisoned)
    with pytest.raises(BadEntryError, match="non-finite .* \\['c0'\\]"):
        collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False, batch_size=4)
    store = collect(tiny, rset, ["resid"], out=tmp_path / "s2", progress=False, batch_size=4, skip_bad=True)
    assert [s["id"] for s in store.meta["skipped"]] == ["c0", "c4", "c8"]
    assert store.clips.column("clip_id").to_pylist() == [f"c{i}" for i in range(12) if i % 4]
    assert store.index.num_rows == 9 * 11 and torch.isfinite(store.read_frames("resid", 0)).all()


def test_metadata_records_what_was_collected(tiny, rset, tmp_path):
    store = collect(tiny, rset, ["attn_z"], out=tmp_path / "s", dtype="bfloat16", frames="last", progress=False)
    meta = json.loads((tmp_path / "s" / "metadata.json").read_text())
    assert meta["dtype"] == "bfloat16" and meta["frames"] == "last" and meta["branch"] == "uncond"
    assert meta["model_fingerprint"] == tiny.fingerprint and meta["package_version"]
    assert meta["concept_set_digest"] and meta["kind"] == "clips"
    assert store.read_frames("attn_z", 0).dtype == torch.bfloat16
    assert store.index.num_rows == 12
    assert not any(p.name.startswith(".") for p in (tmp_path / "s").rglob("*"))
    assert {p.name for p in (tmp_path / "s").iterdir()} == {"metadata.json", "index.parquet", "clips.parquet",
                                                           "shards", "pooled", "stats", "written_by_musicinterp.json"}
    modes = {p.stat().st_mode & 0o777 for p in (tmp_path / "s").rglob("*") if p.is_file()}
    assert modes == {0o666 & ~LY.umask()}  # the usual permissions, not mkstemp's 0o600


def test_text_condition_is_traced_as_the_cond_branch(tiny, rset, tmp_path):
    from musicinterp.organism.prompts import build_tokenizer

    tiny.tokenizer = build_tokenizer()
    try:
        store = collect(tiny, rset, ["resid"], out=tmp_path / "s", text="drums", progress=False)
        cond = tiny.conditioning(text=["drums"] * 12)
        ref = trace_codes(tiny, rset.codes, cond=cond, read=["resid"], frames="valid", logits=False)
    finally:
        tiny.tokenizer = None
    assert store.meta["branch"] == "cond" and set(store.index.column("branch").to_pylist()) == {"cond"}
    assert torch.allclose(store.read_frames("resid", 1), ref.activations["resid"][:, 1].reshape(-1, 64), atol=1e-6)


def test_replaced_or_fixed_audio_is_collected_again(tiny, tmp_path, monkeypatch):
    real = tiny.audio_to_codes

    def codec(audio):  # the random tiny codec ignores its input; this one follows the samples
        codes = real(audio)
        wav = torch.as_tensor(np.asarray(audio), dtype=torch.float32).reshape(-1)
        frames = wav[: codes.shape[-1] * 640].reshape(codes.shape[-1], -1).abs().sum(1)
        return ((frames * 997).long() % 2048).expand_as(codes).clone()

    monkeypatch.setattr(tiny, "audio_to_codes", codec)
    cs = _audio_set(tmp_path)
    first = collect(tiny, cs, ["resid"], out=tmp_path / "s", skip_bad=True, progress=False)
    before = first.read_frames("resid", 1)
    rng = np.random.default_rng(5)
    for i in range(6):  # every WAV replaced: same paths, same sizes, other samples
        path = tmp_path / f"clip{i}.wav"
        size = path.stat().st_size
        info = sf.info(str(path))
        sf.write(path, rng.uniform(-0.3, 0.3, (info.frames, info.channels)), info.samplerate, subtype="PCM_16")
        assert path.stat().st_size == size
    with pytest.raises(StoreRequestMismatchError, match="concept_set_digest"):  # never the old features
        collect(tiny, cs, ["resid"], out=tmp_path / "s", skip_bad=True, progress=False)
    again = collect(tiny, cs, ["resid"], out=tmp_path / "s", skip_bad=True, overwrite=True, progress=False)
    assert again.meta["concept_set_digest"] != first.meta["concept_set_digest"]
    assert not torch.allclose(again.read_frames("resid", 1), before)
    sf.write(tmp_path / "corrupt.wav", np.zeros(12800), 32000)  # the unreadable entry, fixed
    fixed = collect(tiny, cs, ["resid"], out=tmp_path / "t", skip_bad=True, progress=False)
    assert {s["id"] for s in fixed.meta["skipped"]} == {"a6", "a7"}
