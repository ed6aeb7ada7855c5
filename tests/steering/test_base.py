import pytest
import torch

from musicinterp import generate
from musicinterp.steering import (
    ApplySpec,
    ITIConfig,
    ITISteerer,
    Steerer,
    steer,
)
from musicinterp.store import StoreModelMismatchError

from .conftest import fit_all


def test_every_method_saves_loads_and_refuses_other_models(tiny_store, tmp_path):
    from musicinterp import load_model

    model, store = tiny_store
    other = load_model("tiny", seed=3)
    for name, st in fit_all(store).items():
        st.save(tmp_path / name)
        again = Steerer.load(tmp_path / name, model)
        assert type(again) is type(st) and again.config == st.config and again.spec == st.spec
        for k, v in st.tensors.items():
            assert torch.equal(again.tensors[k], v)
        with pytest.raises(StoreModelMismatchError, match="fingerprint"):
            Steerer.load(tmp_path / name, other)




def test_apply_steers_inside_and_leaves_no_trace_after(tiny_store):
    model, store = tiny_store
    iti = fit_all(store)["iti"]
    kw = dict(batch=2, n_frames=6, seed=0, decode_audio=False, record_logits=True)
    never = generate(model, **kw)
    with iti.apply(model, strength=50.0):
        inside = generate(model, **kw)
        assert "iti:drums" in inside.logs and len(inside.logs["iti:drums"].steps) == 9
    after = generate(model, **kw)
    assert (inside.logits - never.logits).abs().max() > 1e-3
    assert torch.equal(after.codes, never.codes) and torch.equal(after.logits, never.logits) and not after.logs
    again = steer(model, iti, strength=50.0, **kw)  # steer == apply + generate
    assert torch.equal(again.codes, inside.codes) and torch.equal(again.logits, inside.logits)


def test_apply_removes_its_edits_on_an_exception(tiny_store):
    model, store = tiny_store
    iti = fit_all(store)["iti"]
    kw = dict(batch=1, n_frames=4, seed=1, decode_audio=False)
    never = generate(model, **kw)
    with pytest.raises(RuntimeError, match="boom"), iti.apply(model, strength=8.0):
        raise RuntimeError("boom")
    assert model.steering == []
    assert torch.equal(generate(model, **kw).codes, never.codes)


def test_apply_blocks_nest_and_compose_like_steer(tiny_store):
    model, store = tiny_store
    s = fit_all(store)
    kw = dict(batch=2, n_frames=5, seed=2, decode_audio=False)
    with s["iti"].apply(model), s["diffmeans"].apply(model):
        nested = generate(model, **kw)
        with s["regression"].apply(model):
            assert len(model.steering) == 3
        assert len(model.steering) == 2
    assert set(nested.logs) == {"iti:drums", "diffmeans:drums"}
    assert torch.equal(steer(model, [s["iti"], s["diffmeans"]], **kw).codes, nested.codes)


def test_a_spec_override_merges_field_by_field(tiny_store):
    model, store = tiny_store
    sm = fit_all(store)["smitin"]  # stored spec: rows both, every = interval (5)
    assert sm.spec.every == 5
    prepared = sm.prepare(model, spec=ApplySpec(layers=[1]))
    edits = [iv for iv in prepared.interventions if iv.name.startswith("smitin")]
    assert [iv.layer for iv in edits] == [1]
    assert edits[0].steps.every == 5 and edits[0].rows == "both"  # kept from the stored spec


def test_a_field_the_method_cannot_honour_is_refused(tiny_store):
    from musicinterp.steering import SpecError

    model, store = tiny_store
    s = fit_all(store)
    for name in ("diffmeans", "regression"):
        with pytest.raises(SpecError, match=f"{name} cannot honour ApplySpec.heads"):
            s[name].prepare(model, spec=ApplySpec(heads=[(0, 1)]))
        with pytest.raises(SpecError, match="heads"), s[name].apply(model, spec=ApplySpec(heads=[(0, 1)])):
            pass
    assert model.steering == []


def test_every_method_names_its_strength(tiny_store):
    _, store = tiny_store
    s = fit_all(store)
    names = {k: (v.strength_name, v.strength) for k, v in s.items()}
    assert names == {"iti": ("alpha", 4.0), "smitin": ("alpha", 20.0), "diffmeans": ("lambda", 1.0),
                     "regression": ("s", 0.5)}
    for st in s.values():
        text = repr(st)
        assert st.strength_name in text and "tensor(" not in text and len(text) < 200


def test_iti_honours_layers_and_warns_when_k_exceeds_the_heads(tiny_store):
    model, store = tiny_store
    with pytest.warns(UserWarning, match="k=48 exceeds the 8 available"):
        iti = ITISteerer.fit(store, "drums", ITIConfig(k=48))
    assert iti.config.k == 8
    default = ITISteerer.fit(store, "drums")
    assert default.config.k == 1  # one head in eight of the tiny model's 8
    edits = iti.prepare(model, spec=ApplySpec(layers=[1])).interventions
    assert {iv.layer for iv in edits} == {1}
    heads = iti.prepare(model, spec=ApplySpec(heads=[(0, 2)])).interventions
    assert [(iv.layer, list(iv.heads)) for iv in heads] == [(0, [2])]
