import pytest
import torch

from musicinterp import generate, trace_codes
from musicinterp.sae import train
from musicinterp.steering import Steerer, SteererConfigError, steer
from musicinterp.steering.sae import SAESteerer, SAESteererConfig
from musicinterp.store import StoreModelMismatchError


@pytest.fixture(scope="module")
def sae(tiny_store):
    _, store = tiny_store
    return train(store, "resid", layer=1, dict_size=32, k=4, steps=30, batch_size=64, shuffle_buffer=128,
                 progress=False)


@pytest.fixture(scope="module")
def codes():
    return torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(4))


def _resid(model, codes, steerer=None, **kw):
    ivs = steerer.prepare(model, **kw).interventions if steerer is not None else []
    return trace_codes(model, codes, read={"resid": [1]}, interventions=ivs, logits=False).activations["resid"][:, 0]


def test_add_moves_along_decoder_columns_not_b_dec(tiny_store, sae, codes):
    model, store = tiny_store
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, n_features=2, strength=3.0))
    assert st.features == torch.argsort(_auc(store, sae), descending=True)[:2].tolist()
    diff = _resid(model, codes, st) - _resid(model, codes)
    feats = st.tensors["features"]
    want = 3.0 * (st.tensors["typical"] @ (sae.directions[:, feats].T * sae.norm_factor))
    assert torch.allclose(diff, want.expand_as(diff), atol=1e-4)
    removed = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=st.features, remove=True, strength=3.0))
    assert torch.allclose(_resid(model, codes, removed) - _resid(model, codes), -want.expand_as(diff), atol=1e-4)


def _auc(store, sae):
    from musicinterp.sae.features import analyze

    return analyze(sae, store, probes=False, progress=False).auc["drums"]


def test_ablate_keeps_the_error_term_unless_asked(tiny_store, sae, codes):
    model, store = tiny_store
    x = _resid(model, codes)
    f = sae.encode(x)
    feat = int(f.sum((0, 1)).argmax())  # a feature that fires here
    kept = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=[feat], mode="ablate", strength=1.0))
    want = x - f[..., feat:feat + 1] * (sae.direction(feat) * sae.norm_factor)
    assert torch.allclose(_resid(model, codes, kept), want, atol=1e-4)
    dropped = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=[feat], mode="ablate", keep_error=False))
    f2 = f.clone()
    f2[..., feat] = 0
    assert torch.allclose(_resid(model, codes, dropped), sae.decode(f2), atol=1e-4)
    half = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=[feat], mode="scale", strength=0.5))
    assert torch.allclose(_resid(model, codes, half), x - 0.5 * f[..., feat:feat + 1] * sae.direction(feat)
                          * sae.norm_factor, atol=1e-4)
    same = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=[feat], mode="scale", strength=1.0))
    assert torch.equal(_resid(model, codes, same), x)


def test_clamp_when_active_leaves_silent_positions(tiny_store, sae, codes):
    model, store = tiny_store
    x = _resid(model, codes)
    f = sae.encode(x)
    feat = int(((f > 0).float().mean((0, 1)) - 0.5).abs().argmin())  # fires at some positions, not all
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=[feat], mode="clamp", when="when_active",
                                                 strength=2.0))
    out = _resid(model, codes, st)
    silent = f[..., feat] == 0
    assert torch.equal(out[silent], x[silent])
    typ = float(st.tensors["typical"][0])
    want = x + (2.0 * typ - f[..., feat:feat + 1]) * sae.direction(feat) * sae.norm_factor
    assert torch.allclose(out[~silent], want[~silent], atol=1e-4)


def test_rows_at_strength_zero_are_untouched_in_generation(tiny_store, sae, tiny_ids):
    model, store = tiny_store
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, n_features=2, mode="clamp", strength=5.0))
    base = generate(model, input_ids=tiny_ids, n_frames=6, seed=0, decode_audio=False)
    res = steer(model, st, strength=torch.tensor([0.0, 50.0]), input_ids=tiny_ids, n_frames=6, seed=0,
                decode_audio=False)
    assert torch.equal(res.codes[0], base.codes[0])
    assert not torch.equal(res.codes[1], base.codes[1])


def test_save_load_and_refuse_other_model(tiny_store, sae, codes, tmp_path):
    from musicinterp import load_model

    model, store = tiny_store
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, n_features=2, mode="ablate"))
    st.save(tmp_path / "st")
    again = Steerer.load(tmp_path / "st", model)
    assert isinstance(again, SAESteerer) and again.features == st.features
    assert torch.equal(_resid(model, codes, again), _resid(model, codes, st))
    with pytest.raises(StoreModelMismatchError):
        Steerer.load(tmp_path / "st", load_model("tiny", seed=3))


def test_feature_monitor_gates_generation(tiny_store, sae, tiny_ids):
    model, store = tiny_store
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, n_features=1, strength=2.0))
    mon = st.monitor(warmup=2, frames=3)
    res = steer(model, st, schedule=mon, input_ids=tiny_ids, n_frames=8, seed=0, decode_audio=False)
    trace = next(iter(res.monitors.values()))
    readings, strengths = trace.as_tensors()
    assert readings.shape == (len(trace.steps), 2) and ((readings >= 0) & (readings <= 1)).all()
    assert (strengths[:2] == 2.0).all()  # full strength during the warm-up
    gate = torch.where(readings >= mon.tau, 0.0, (1 - readings / mon.tau).clamp(0, 1))
    assert torch.allclose(strengths[2:], 2.0 * gate[1:-1], atol=1e-5)  # step t uses the reading of step t-1


def test_bad_configs_are_named(tiny_store, sae):
    _, store = tiny_store
    with pytest.raises(SteererConfigError, match="mode must be one of"):
        SAESteererConfig(sae=sae, mode="boost")
    with pytest.raises(SteererConfigError, match="use mode='ablate'"):
        SAESteererConfig(sae=sae, mode="clamp", remove=True)
    with pytest.raises(IndexError, match="feature 99"):
        SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, features=[99]))
    with pytest.raises(ValueError, match="SAESteererConfig.sae is required"):
        SAESteerer.fit(store, "drums", SAESteererConfig())


@pytest.mark.slow
def test_random_small_trains_and_steers_at_real_width(tmp_path):
    from musicinterp import load_model
    from musicinterp.collect import collect
    from musicinterp.data.concept_set import ConceptSet

    model = load_model("random-small")
    n = 6
    codes = torch.randint(0, 2048, (n, 4, 12), generator=torch.Generator().manual_seed(0))
    ids = [f"c{i}" for i in range(n)]
    cs = ConceptSet("r", {"drums": torch.tensor([i % 2 for i in range(n)])}, ids, ids, codes=codes)
    store = collect(model, cs, ["resid"], out=tmp_path / "s", progress=False)
    sae = train(store, "resid", layer=12, dict_size=256, k=8, steps=4, batch_size=16, shuffle_buffer=0,
                progress=False)
    assert sae.d_in == 1024 and sae.directions.shape == (1024, 256)
    st = SAESteerer.fit(store, "drums", SAESteererConfig(sae=sae, n_features=2, strength=4.0))
    base = generate(model, batch=1, n_frames=3, seed=0, decode_audio=False, guidance_scale=1.0)
    res = steer(model, st, batch=1, n_frames=3, seed=0, decode_audio=False, guidance_scale=1.0)
    assert res.codes.shape == base.codes.shape == (1, 4, 3)
