import torch

from musicinterp.store.stats import SiteStats


def _rows(n, seed, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 5, generator=g) * 2 + shift + 1000.0, torch.randint(0, 2, (n,), generator=g)


def test_chunk_statistics_equal_direct_computation():
    x, lab = _rows(40, 0)
    st = SiteStats.of(x, {"c": lab})
    xd = x.double()
    assert st.count == 40
    assert torch.allclose(st.mean, xd.mean(0), atol=1e-10)
    assert torch.allclose(st.var, xd.var(0, unbiased=False), atol=1e-9)
    assert torch.allclose(st.class_mean("c", 1), xd[lab == 1].mean(0), atol=1e-10)
    assert torch.allclose(st.class_mean("c", 0), xd[lab == 0].mean(0), atol=1e-10)


def test_parallel_merge_equals_one_pass_in_any_grouping():
    parts = [_rows(n, seed, shift) for n, seed, shift in ((7, 1, 0.0), (1, 2, 5.0), (30, 3, -3.0), (12, 4, 1.0))]
    x = torch.cat([p[0] for p in parts])
    lab = torch.cat([p[1] for p in parts])
    whole = SiteStats.of(x, {"c": lab})
    left = SiteStats()
    for px, pl in parts:
        left = left.merge(SiteStats.of(px, {"c": pl}))
    a = SiteStats.of(parts[0][0], {"c": parts[0][1]}).merge(SiteStats.of(parts[1][0], {"c": parts[1][1]}))
    b = SiteStats.of(parts[2][0], {"c": parts[2][1]}).merge(SiteStats.of(parts[3][0], {"c": parts[3][1]}))
    tree = a.merge(b)
    for st in (left, tree):
        assert st.count == whole.count
        assert torch.allclose(st.mean, whole.mean, rtol=0, atol=1e-10)
        assert torch.allclose(st.m2, whole.m2, rtol=1e-10)
        assert torch.allclose(st.class_mean("c", 1), whole.class_mean("c", 1), atol=1e-10)
        assert st.class_count == whole.class_count


def test_class_missing_from_a_chunk_and_round_trip():
    x, _ = _rows(6, 5)
    only_pos = SiteStats.of(x[:3], {"c": torch.ones(3, dtype=torch.long)})
    only_neg = SiteStats.of(x[3:], {"c": torch.zeros(3, dtype=torch.long)})
    st = only_pos.merge(only_neg)
    assert torch.allclose(st.class_mean("c", 1), x[:3].double().mean(0))
    back = SiteStats.from_tensors(st.to_tensors())
    assert back.count == 6 and torch.equal(back.m2, st.m2) and back.class_count == {"c=0": 3, "c=1": 3}
    empty = SiteStats.from_tensors(SiteStats().to_tensors())
    assert empty.count == 0 and empty.merge(st).count == 6
