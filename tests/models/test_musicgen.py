from musicinterp.models import load_model


def test_tiny_handle_knows_its_shapes(tiny):
    assert (tiny.n_layers, tiny.n_heads, tiny.head_dim, tiny.n_codebooks) == (2, 4, 16, 4)
    assert tiny.frame_rate == 50 and tiny.sample_rate == 32000
    assert [s.name for s in tiny.sites] == ["attn_z", "cross_z", "mlp_out", "resid"]
    assert tiny.describe()["sites"]["attn_z"]["shape"] == [4, 16]


def test_fingerprint_is_stable_and_distinguishes_weights():
    a, b, c = load_model("tiny", seed=0), load_model("tiny", seed=0), load_model("tiny", seed=1)
    assert a.fingerprint == b.fingerprint != c.fingerprint
