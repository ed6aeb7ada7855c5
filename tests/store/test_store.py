import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from musicinterp import load_model, trace_codes
from musicinterp.collect import collect
from musicinterp.data.concept_set import AudioRef, ConceptSet
from musicinterp.store import ActivationStore, StoreError, StoreIncompleteError, StoreModelMismatchError
from musicinterp.store.errors import BadEntryError

from .conftest import random_set


def test_round_trip_equals_traced_values(tiny, rset, tmp_path):
    store = collect(tiny, rset, ["attn_z", "resid"], out=tmp_path / "s", memory_budget_mb=0.05, progress=False)
    assert store.meta["chunks"] > 1  # the budget forced several chunks
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
    store = collect(tiny, rset, ["resid"], out=tmp_path / "s", memory_budget_mb=0.05, progress=False)
    x = torch.stack([store.read_frames("resid", layer) for layer in range(2)], dim=1).double()  # (rows, L, D)
    st = store.stats("resid")
    assert st.count == x.shape[0]
    assert torch.allclose(st.mean, x.mean(0), atol=1e-9)
    assert torch.allclose(st.var, x.var(0, unbiased=False), atol=1e-9)
    drums = torch.tensor(store.index.column("label_drums").to_pylist())
    assert torch.allclose(st.class_mean("drums", 1), x[drums == 1].mean(0), atol=1e-9)


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


def test_kill_and_resume_gives_identical_store(tmp_path):
    script = f"""
import sys, torch
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from conftest import random_set
from musicinterp import load_model
from musicinterp.collect import collect
collect(load_model("tiny"), random_set(n=10), ["attn_z", "resid"], out=sys.argv[1], memory_budget_mb=0.05,
        progress=False)
"""
    env = {**os.environ, "MUSICINTERP_TEST_KILL_AFTER_CHUNK": "3"}
    killed = subprocess.run([sys.executable, "-c", script, str(tmp_path / "a")], env=env, capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    with pytest.raises(StoreIncompleteError):
        ActivationStore.open(tmp_path / "a")
    env.pop("MUSICINTERP_TEST_KILL_AFTER_CHUNK")
    for out in ("a", "b"):  # resume a; run b uninterrupted
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / out)], env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    a, b = ActivationStore.open(tmp_path / "a", deep_verify=True), ActivationStore.open(tmp_path / "b")
    assert a.meta["files"] == b.meta["files"]  # same files, sizes and SHA-256
    assert a.meta["chunks"] > 4


def test_damaged_shard_is_named(tiny, rset, tmp_path):
    collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False)
    shard = next((tmp_path / "s" / "shards").rglob("*.safetensors"))
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(StoreError, match=str(shard.relative_to(tmp_path / "s"))):
        ActivationStore.open(tmp_path / "s")


def test_other_model_is_refused(tiny, rset, tmp_path):
    collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False)
    other = load_model("tiny", seed=1)
    with pytest.raises(StoreModelMismatchError, match="fingerprint"):
        ActivationStore.open(tmp_path / "s", model=other)
    with pytest.raises(StoreError, match="complete store"):
        collect(other, rset, ["resid"], out=tmp_path / "s", progress=False)


def test_duplicate_ids_and_single_class_are_named(tiny, tmp_path):
    with pytest.raises(ValueError, match="duplicate ids: \\['c1'\\]"):
        ConceptSet("d", {"x": torch.tensor([0, 1, 1])}, ["c0", "c1", "c1"], ["a", "b", "c"],
                   codes=torch.zeros(3, 4, 8, dtype=torch.long))
    one = ConceptSet("one", {"x": torch.tensor([1, 1])}, ["a", "b"], ["a", "b"],
                     codes=torch.zeros(2, 4, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="concept 'x' in set 'one' has a single class"):
        collect(tiny, one, ["resid"], out=tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()


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
    import musicinterp.collect as C

    real = C.trace_codes

    def poisoned(model, codes, **kw):
        res = real(model, codes, **kw)
        if kw.get("read"):
            res.activations["resid"][0, 0, 5, 0] = float("nan")
        return res

    monkeypatch.setattr(C, "trace_codes", poisoned)
    with pytest.raises(BadEntryError, match="non-finite .* \\['c0'\\]"):
        collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False, batch_size=4)
    store = collect(tiny, rset, ["resid"], out=tmp_path / "s2", progress=False, batch_size=4, skip_bad=True)
    assert [s["id"] for s in store.meta["skipped"]] == ["c0", "c4", "c8"]


def test_stream_feeds_a_dictionary_learning_trainer(tiny, rset, tmp_path):
    from dictionary_learning.trainers.top_k import AutoEncoderTopK, TopKTrainer

    store = collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False)
    batches = store.stream("resid", 1, batch_size=16, shuffle_buffer=32, epochs=None)
    trainer = TopKTrainer(steps=6, activation_dim=64, dict_size=128, k=8, layer=1, lm_name="tiny", warmup_steps=2,
                          dict_class=AutoEncoderTopK, device="cpu")
    losses = []
    for step in range(6):
        x = next(batches)
        assert x.shape == (16, 64) and x.dtype == torch.float32
        losses.append(trainer.loss(x, step=step).item())
        trainer.update(step, x)
    assert all(np.isfinite(losses))


def test_metadata_records_what_was_collected(tiny, rset, tmp_path):
    store = collect(tiny, rset, ["attn_z"], out=tmp_path / "s", dtype="bfloat16", frames="last", progress=False)
    meta = json.loads((tmp_path / "s" / "metadata.json").read_text())
    assert meta["dtype"] == "bfloat16" and meta["frames"] == "last" and meta["branch"] == "uncond"
    assert meta["model_fingerprint"] == tiny.fingerprint and meta["package_version"]
    assert store.read_frames("attn_z", 0).dtype == torch.bfloat16
    assert store.index.num_rows == 12


def test_prompt_sets_collect_through_generation(tiny, tmp_path):
    from musicinterp.collect import collect_prompts
    from musicinterp.generation import generate
    from musicinterp.organism.prompts import build_tokenizer

    cs = ConceptSet("p", {"tempo": torch.tensor([1, 1, 0, 0])}, ["p0", "p1", "n0", "n1"], ["p0", "p1", "n0", "n1"],
                    prompts=["fast", "fast drums", "slow", "slow bass"])
    tiny.tokenizer = build_tokenizer()
    try:
        store = collect_prompts(tiny, cs, ["resid"], out=tmp_path / "p", n_steps=6, branch="both", batch_size=4,
                                progress=False)
        # the stored cond rows are what a generation with these prompts computes
        seen = []
        from musicinterp import apply_fn

        generate(tiny, text=cs.prompts, max_new_tokens=6, seed=0, decode_audio=False,
                 interventions=[apply_fn("resid", 1, lambda x, ctx: seen.append(x[:, -1].clone()))])
    finally:
        tiny.tokenizer = None
    clips = store.clips.to_pylist()
    assert [c["clip_id"] for c in clips][:5] == ["p0#cond", "p1#cond", "n0#cond", "n1#cond", "p0#uncond"]
    assert store.meta["n_rows"] == 8 * 6
    frames = store.read_frames("resid", 1).reshape(8, 6, -1)
    expected = torch.stack(seen, dim=1)  # (rows, steps, d)
    assert torch.allclose(frames[:4], expected[:4]) and torch.allclose(frames[4:], expected[4:])
    pv = store.probe_view("resid", "mean")
    assert torch.allclose(pv.x[:, 1], frames.mean(1), atol=1e-6)
