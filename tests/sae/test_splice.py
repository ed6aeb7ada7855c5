import pytest
import torch

from musicinterp.sae import train
from musicinterp.sae.splice import from_sae, splice, to_sae, zero_ablate

FAST = {"dict_size": 32, "k": 4, "steps": 12, "batch_size": 64, "shuffle_buffer": 128, "progress": False}


@pytest.fixture(scope="module")
def saes(frames_store):
    return {"resid": train(frames_store, "resid", layer=0, **FAST),
            "flat": train(frames_store, "attn_z", layer=1, **FAST),
            "head": train(frames_store, "attn_z", layer=1, head=2, **FAST)}


def test_layouts_between_the_site_and_the_sae(saes):
    heads = torch.randn(2, 3, 4, 16)
    assert torch.equal(to_sae(heads, saes["flat"]), heads.reshape(2, 3, 64))
    assert torch.equal(from_sae(heads.reshape(2, 3, 64), heads, saes["flat"]), heads)
    one = heads[..., 2:3, :]  # heads=[2] narrows the site to one head
    assert torch.equal(to_sae(one, saes["head"]), heads[..., 2, :])
    assert torch.equal(from_sae(heads[..., 2, :].double(), one, saes["head"]), one)
    assert splice(saes["head"]).heads == [2] and splice(saes["flat"]).heads is None


def test_splice_and_zero_touch_only_the_given_positions(saes):
    sae = saes["resid"]
    x = torch.randn(2, 5, 64)
    before = x.clone()
    keep = torch.tensor([1, 3])
    spliced = splice(sae, keep).fn(x, None)
    other = [0, 2, 4]
    assert torch.equal(spliced[:, other], x[:, other])
    torch.testing.assert_close(spliced[:, keep], sae.decode(sae.encode(x[:, keep])))
    zeroed = zero_ablate(sae, keep).fn(x, None)
    assert zeroed[:, keep].eq(0).all() and torch.equal(zeroed[:, other], x[:, other])
    assert torch.equal(x, before)  # the input is left as it was
    assert zero_ablate(sae).fn(x, None).eq(0).all()
    assert (splice(sae).site, splice(sae).layer, splice(sae).name) == ("resid", 0, "sae-splice@resid0")
