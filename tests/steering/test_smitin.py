import torch

from musicinterp.steering import (
    derive_tau,
)


def test_derive_tau_separates_validation_readings():
    logits = torch.tensor([[-3.0, -2.0, 2.0, 3.0], [-2.5, -1.0, 1.0, 2.5], [-1.0, -3.0, 3.0, 1.0]])
    labels = torch.tensor([0.0, 0.0, 1.0, 1.0])
    tau = derive_tau(logits, labels)
    c = torch.sigmoid(logits).median(0).values
    assert c[:2].max() < tau <= c[2:].min()
    assert derive_tau(logits, labels, flip=True) > 1 - c[2:].min()


def test_soft_head_weights():
    from musicinterp.steering.smitin import soft_head_weights

    w = soft_head_weights(torch.tensor([0.5, 0.75, 1.0]))
    assert torch.allclose(w, torch.tensor([0.0, 0.125, 1.0]))
    assert torch.equal(soft_head_weights(torch.ones(4)), torch.ones(4))
