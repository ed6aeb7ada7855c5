import pytest
import torch

from musicinterp import generate, trace_codes
from musicinterp.steering import (
    ApplySpec,
    DiffMeansConfig,
    DiffMeansSteerer,
    ITIConfig,
    ITISteerer,
    RegressionConfig,
    RegressionSteerer,
    SMITINConfig,
    SMITINSteerer,
    Steerer,
    derive_tau,
    steer,
)
from musicinterp.store import StoreModelMismatchError


def _fit_all(store):
    return {
        "iti": ITISteerer.fit(store, "drums", ITIConfig(k=3, alpha=4.0)),
        "smitin": SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=2)),
        "diffmeans": DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(lam=1.0, layers=[1])),
        "regression": RegressionSteerer.fit(store, "drums", RegressionConfig(strength=0.5, layers=[0])),
    }


def test_every_method_saves_loads_and_refuses_other_models(tiny_store, tmp_path):
    from musicinterp import load_model

    model, store = tiny_store
    other = load_model("tiny", seed=3)
    for name, st in _fit_all(store).items():
        st.save(tmp_path / name)
        again = Steerer.load(tmp_path / name, model)
        assert type(again) is type(st) and again.config == st.config and again.spec == st.spec
        for k, v in st.tensors.items():
            assert torch.equal(again.tensors[k], v)
        with pytest.raises(StoreModelMismatchError, match="fingerprint"):
            Steerer.load(tmp_path / name, other)


def test_iti_adds_alpha_sigma_theta_to_its_heads(tiny_store):
    model, store = tiny_store
    iti = ITISteerer.fit(store, "drums", ITIConfig(k=3, alpha=4.0))
    codes = torch.randint(0, 2048, (2, 4, 10))
    base = trace_codes(model, codes, read=["attn_z"])
    res = trace_codes(model, codes, read=["attn_z"], interventions=iti.prepare(model).interventions)
    heads = [tuple(h) for h in iti.tensors["heads"].tolist()]
    first = min(layer for layer, _ in heads)
    diff = res.activations["attn_z"] - base.activations["attn_z"]  # (B, L, T, H, hd)
    for i, (layer, head) in enumerate(heads):
        if layer == first:
            want = 4.0 * iti.tensors["sigma"][i] * iti.tensors["directions"][i]
            assert torch.allclose(diff[:, layer, :, head], want.expand_as(diff[:, layer, :, head]), atol=1e-5)
    untouched = [(layer, h) for layer in range(2) for h in range(4) if (layer, h) not in heads and layer <= first]
    for layer, h in untouched:
        assert diff[:, layer, :, h].abs().max() < 1e-6
    assert torch.allclose(iti.tensors["directions"].norm(dim=-1), torch.ones(3), atol=1e-5)


def test_diffmeans_vector_is_the_class_mean_difference(tiny_store):
    model, store = tiny_store
    dm = DiffMeansSteerer.fit(store, "drums", DiffMeansConfig(lam=1.0))
    frames = torch.stack([store.read_frames("resid", layer) for layer in range(2)], dim=1).double()
    drums = torch.tensor(store.index.column("label_drums").to_pylist())
    want = frames[drums == 1].mean(0) - frames[drums == 0].mean(0)
    assert torch.allclose(dm.tensors["v"].double(), want, atol=1e-4)
    codes = torch.randint(0, 2048, (2, 4, 10))
    base = trace_codes(model, codes, read={"resid": [0]})
    spec = ApplySpec(layers=[0])
    res = trace_codes(model, codes, read={"resid": [0]},
                      interventions=dm.prepare(model, strength=0.5, spec=spec).interventions)
    assert torch.allclose(res.activations["resid"] - base.activations["resid"],
                          (0.5 * dm.tensors["v"][0]).expand_as(base.activations["resid"]), atol=1e-5)


def test_regression_update_is_norm_relative(tiny_store):
    model, store = tiny_store
    rg = RegressionSteerer.fit(store, "drums", RegressionConfig(strength=0.5, layers=[1]))
    assert torch.allclose(rg.tensors["w"].norm(dim=-1), torch.ones(2), atol=1e-5)
    codes = torch.randint(0, 2048, (2, 4, 10))
    base = trace_codes(model, codes, read={"resid": [1]})
    res = trace_codes(model, codes, read={"resid": [1]}, interventions=rg.prepare(model).interventions)
    h = base.activations["resid"][:, 0]
    want = (h + 0.5 * h.norm(dim=-1, keepdim=True) * rg.tensors["w"][1]) / 1.5
    assert torch.allclose(res.activations["resid"][:, 0], want, atol=1e-5)
    assert rg.spec.rows == "cond"


def test_derive_tau_separates_validation_readings():
    logits = torch.tensor([[-3.0, -2.0, 2.0, 3.0], [-2.5, -1.0, 1.0, 2.5], [-1.0, -3.0, 3.0, 1.0]])
    labels = torch.tensor([0.0, 0.0, 1.0, 1.0])
    tau = derive_tau(logits, labels)
    c = torch.sigmoid(logits).median(0).values
    assert c[:2].max() < tau <= c[2:].min()
    assert derive_tau(logits, labels, flip=True) > 1 - c[2:].min()


def test_smitin_monitor_stops_once_the_trait_is_present(tiny_store):
    model, store = tiny_store
    kw = dict(batch=2, n_frames=20, seed=0, decode_audio=False)
    always = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=3, tau=0.0, interval=1))
    res = steer(model, always, **kw)
    trace = next(iter(res.monitors.values()))
    readings, strengths = trace.as_tensors()
    assert readings.shape == (23, 2)
    assert (strengths[:3] > 0).all() and (strengths[3:] == 0).all()  # warm-up, then stopped
    assert trace.edited == [0, 1, 2]
    never = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=3, tau=1.01, interval=5))
    res = steer(model, never, **kw)
    trace = next(iter(res.monitors.values()))
    assert trace.edited == [0, 5, 10, 15, 20]  # every s = 5 steps
    _, s = trace.as_tensors()
    expected = 5.0 * (1 - trace.readings[4] / 1.01)  # strength for step 5 comes from step 4's reading
    assert torch.allclose(s[5], expected, atol=1e-5)


def test_smitin_strength_for_step_t_uses_readings_up_to_t_minus_1(tiny_store):
    model, store = tiny_store
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=4, warmup=0, tau=0.9, interval=1))
    trace = next(iter(steer(model, st, batch=1, n_frames=8, seed=1, decode_audio=False).monitors.values()))
    readings, strengths = trace.as_tensors()
    assert strengths[0, 0] == 5.0  # nothing read yet at step 0
    for t in range(1, len(trace.steps)):
        c = readings[t - 1, 0]
        want = 0.0 if c >= 0.9 else 5.0 * (1 - c / 0.9)
        assert abs(float(strengths[t, 0]) - float(want)) < 1e-5


def test_methods_combine_in_one_generation(tiny_store):
    model, store = tiny_store
    s = _fit_all(store)
    res = steer(model, [s["iti"], s["diffmeans"], s["smitin"]], batch=2, n_frames=6, seed=0, decode_audio=False)
    assert set(res.logs) == {"iti:drums", "diffmeans:drums", "smitin:drums"}
    assert res.logs["iti:drums"].steps == list(range(9))
    plain = generate(model, batch=2, n_frames=6, seed=0, decode_audio=False)
    assert not torch.equal(res.codes, plain.codes)
    zero = steer(model, s["iti"], strength=0.0, batch=2, n_frames=6, seed=0, decode_audio=False)
    assert torch.equal(zero.codes, plain.codes)


def test_smitin_monitor_reads_before_its_own_push(tiny_store):
    model, store = tiny_store
    st = SMITINSteerer.fit(store, "drums", SMITINConfig(monitor_heads=8, warmup=5, interval=1))
    kw = dict(batch=2, n_frames=4, seed=0, decode_audio=False, record_logits=True)
    off_run = steer(model, st, strength=0.0, **kw)
    off = next(iter(off_run.monitors.values()))
    # with every edit at layer 1 only, step 0's readings cannot see the push (layer-1 heads read first)
    only_last = steer(model, st, strength=50.0, spec=ApplySpec(layers=[1], every=1), **kw)
    first = next(iter(only_last.monitors.values()))
    assert torch.allclose(first.readings[0], off.readings[0], atol=1e-6)
    push = (only_last.logits[0] - off_run.logits[0]).abs().max()
    assert push > 1e-4  # the push itself was real


def test_soft_head_weights():
    from musicinterp.steering.smitin import soft_head_weights

    w = soft_head_weights(torch.tensor([0.5, 0.75, 1.0]))
    assert torch.allclose(w, torch.tensor([0.0, 0.125, 1.0]))
    assert torch.equal(soft_head_weights(torch.ones(4)), torch.ones(4))
