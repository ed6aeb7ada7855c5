import torch

from musicinterp.report import build_report


def test_store_folder_gives_a_store_report(tiny, tmp_path):
    from musicinterp.collect import collect
    from musicinterp.data.concept_set import ConceptSet

    n = 24
    labels = {"drums": torch.tensor([i % 2 for i in range(n)]), "tempo": torch.tensor([(i // 2) % 2 for i in range(n)])}
    codes = torch.randint(0, tiny.codebook_size, (n, tiny.n_codebooks, 8), generator=torch.Generator().manual_seed(0))
    cs = ConceptSet("rand", labels, [f"c{i}" for i in range(n)], [f"g{i // 2}" for i in range(n)], codes=codes)
    store = collect(tiny, cs, ["attn_z", "resid"], out=tmp_path / "store", frames="pooled", progress=False)
    r = build_report(tmp_path / "store")
    assert (r.provenance.model, r.provenance.fingerprint) == (store.meta["model_id"], tiny.fingerprint)
    assert len(r.provenance.store_digest) == 64
    assert [(i.kind, i.section) for i in r.items] == [("table", "Store"), ("table", "Store"), ("figure", "Probes"),
                                                       ("figure", "Probes")]
    balance = {(row[0], row[1]): row[2] for row in r.items[1].payload.rows}
    assert sum(v for (c, _), v in balance.items() if c == "drums") == n
    assert r.items[0].payload.rows[0][:2] == ("attn_z", str(tuple(store.site_shape("attn_z"))))


def test_unopenable_store_and_probes_off(tiny, tmp_path):
    import pytest

    from musicinterp.report import ReportError
    from musicinterp.report.store_report import store_report

    with pytest.raises(ReportError, match="cannot open the activation store"):
        store_report(tmp_path / "missing")
