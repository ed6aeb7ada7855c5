"""Inside ``with steerer.apply(model)``: teacher-forced traces and likelihoods are steered; collection and
ablation refuse (never silently unsteered, never silently steered)."""

import pytest
import torch

from musicinterp.ablation import ablate
from musicinterp.collect import collect
from musicinterp.data.concept_set import ConceptSet
from musicinterp.engine.active import ActiveSteeringError
from musicinterp.engine.likelihood import nll_under
from musicinterp.engine.tracing import trace_codes
from musicinterp.errors import MusicInterpError

from .conftest import fit_all


@pytest.fixture(scope="module")
def fitted(tiny_store):
    model, store = tiny_store
    return model, fit_all(store)


def _codes(n=2, t=8):
    return torch.randint(0, 2048, (n, 4, t), generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("method", ["iti", "diffmeans", "regression", "smitin"])
def test_trace_codes_inside_apply_is_the_explicitly_steered_trace(fitted, method):
    model, steerers = fitted
    st, codes = steerers[method], _codes()
    plain = trace_codes(model, codes, read=["resid"]).logits
    explicit = trace_codes(model, codes, read=["resid"], interventions=st.prepare(model).edits).logits
    with st.apply(model):
        inside = trace_codes(model, codes, read=["resid"]).logits
    assert not torch.allclose(inside, plain)
    assert torch.equal(inside, explicit)
    assert torch.equal(trace_codes(model, codes, read=["resid"]).logits, plain)  # leaving the block undoes it


def test_nll_under_inside_apply_is_the_steered_likelihood(fitted):
    model, steerers = fitted
    st, codes = steerers["diffmeans"], _codes(3)
    plain = nll_under(model, codes)
    with st.apply(model, strength=3.0):
        inside = nll_under(model, codes, batch=2)
    logits = trace_codes(model, codes, interventions=st.prepare(model, strength=3.0).edits).logits
    logp = torch.log_softmax(model.logits_to_frames(logits, codes.shape[-1]).float(), -1)
    want = -logp.gather(-1, codes.unsqueeze(-1)).squeeze(-1).mean(dim=(1, 2))
    assert not torch.allclose(inside, plain)
    assert torch.allclose(inside, want, atol=1e-6)


def test_collection_and_ablation_refuse_inside_apply(fitted, tmp_path):
    model, steerers = fitted
    codes = _codes(4)
    cs = ConceptSet("x", {"drums": torch.tensor([0, 1, 0, 1])}, list("abcd"), list("abcd"), codes=codes)
    with steerers["iti"].apply(model), steerers["diffmeans"].apply(model):
        with pytest.raises(ActiveSteeringError, match="iti:drums, diffmeans:drums") as err:
            collect(model, cs, ["resid"], out=tmp_path / "s", progress=False)
        assert isinstance(err.value, MusicInterpError) and "steered activations" in str(err.value)
        with pytest.raises(ActiveSteeringError, match="ablation"):
            ablate(model, codes, site="resid", mode="zero")
    assert not (tmp_path / "s" / "rows").exists()
