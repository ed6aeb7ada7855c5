"""Steerers held on a model by ``with steerer.apply(model)``: teacher-forced traces apply their edits, and the
entry points that must run the unsteered model refuse, naming every active steerer."""

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import torch

from musicinterp.ablation import ablate
from musicinterp.collect import collect
from musicinterp.data.concept_set import ConceptSet
from musicinterp.engine import add, trace_codes
from musicinterp.engine.active import (
    ActiveSteeringError,
    active_edits,
    active_steerers,
    prepare_active,
    refuse_active_steering,
)
from musicinterp.errors import MusicInterpError


class _Entry:
    """What ``Steerer.apply`` holds on ``model.steering``: a name and ``prepare(model)``."""

    def __init__(self, name, edits):
        self.name, self.edits, self.prepared_on = name, edits, []

    def prepare(self, model):
        self.prepared_on.append(model)
        return SimpleNamespace(edits=list(self.edits), interventions=list(self.edits))


@contextmanager
def _held(model, *entries):  # as Steerer.apply does: append on entry, remove on exit
    model.steering.extend(entries)
    try:
        yield
    finally:
        for e in entries:
            model.steering.remove(e)


def test_active_entries_in_the_order_entered():
    model = SimpleNamespace(steering=[])
    assert active_steerers(model) == [] and active_edits(model) == []
    assert active_steerers(object()) == []  # a model without the attribute holds nothing
    e1, e2 = _Entry("iti:drums", ["x"]), _Entry("diffmeans:bass", ["y", "z"])
    with _held(model, e1, e2):
        active, prepared = prepare_active(model)
        assert active == [e1, e2] and [p.edits for p in prepared] == [["x"], ["y", "z"]]
        assert active_edits(model) == ["x", "y", "z"]
        assert e1.prepared_on == [model, model]
    assert active_steerers(model) == []
    refuse_active_steering(model, "collection")  # nothing active: no error


def test_refusal_names_the_steerers_and_the_entry_point():
    model = SimpleNamespace(steering=[_Entry("iti:drums", []), _Entry("smitin:drums", [])])
    with pytest.raises(ActiveSteeringError) as err:
        refuse_active_steering(model, "collection", "it would store steered activations")
    msg = str(err.value)
    assert msg.startswith("collection refuses to run while steerers are active on the model "
                          "(iti:drums, smitin:drums): it would store steered activations.")
    assert "outside the `with steerer.apply(model)` block" in msg
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, MusicInterpError)


def test_a_teacher_forced_trace_applies_the_held_edits(tiny, codes):
    edit = add("resid", 0, 2.0 * torch.randn(64, generator=torch.Generator().manual_seed(0)))
    plain = trace_codes(tiny, codes).logits
    explicit = trace_codes(tiny, codes, interventions=[edit]).logits
    with _held(tiny, _Entry("fake:x", [edit])):
        inside = trace_codes(tiny, codes).logits
    assert (explicit - plain).abs().max() > 1e-3
    assert torch.equal(inside, explicit)
    assert torch.equal(trace_codes(tiny, codes).logits, plain)


def test_collection_and_ablation_refuse_while_steerers_are_held(tiny, codes, tmp_path):
    cs = ConceptSet("x", {"c": torch.tensor([0, 1])}, ["a", "b"], ["a", "b"], codes=codes)
    with _held(tiny, _Entry("iti:drums", []), _Entry("diffmeans:drums", [])):
        with pytest.raises(ActiveSteeringError, match=r"^collection refuses .*\(iti:drums, diffmeans:drums\)"):
            collect(tiny, cs, ["resid"], out=tmp_path / "s", progress=False)
        with pytest.raises(ActiveSteeringError, match=r"^ablation/patching refuses .*\(iti:drums, diffmeans:drums\)"):
            ablate(tiny, codes, site="resid", mode="zero", progress=False)
    assert not (tmp_path / "s" / "rows").exists()
    assert ablate(tiny, codes, site="resid", mode="zero", progress=False).shape == (tiny.n_layers,)
