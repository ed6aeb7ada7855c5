import hashlib
import json
import sys
from types import SimpleNamespace

import pytest

from musicinterp.report import Provenance, ReportError
from musicinterp.report.provenance import current_command, package_versions, store_digest


def test_versions_and_command_default_from_the_process(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/bin/musicinterp", "report", "out dir"])
    p = Provenance()
    assert p.command == "musicinterp report 'out dir'" == current_command()
    assert list(p.versions) == ["musicinterp", "torch", "transformers", "nnsight"]
    import torch

    assert p.versions["torch"] == package_versions()["torch"] and torch.__version__.startswith(
        p.versions["torch"].split("+")[0])
    assert package_versions(("no-such-package-xyz",)) == {"no-such-package-xyz": "not installed"}


def test_collect_reads_model_and_store():
    files = {"b.safetensors": {"bytes": 3, "sha256": "bb"}, "a.parquet": {"bytes": 1, "sha256": "aa"}}
    store = SimpleNamespace(meta={"files": files, "model_id": "organism", "model_fingerprint": "f00"})
    want = hashlib.sha256(json.dumps({"a.parquet": "aa", "b.safetensors": "bb"}, sort_keys=True).encode()).hexdigest()
    model = SimpleNamespace(name="tiny", fingerprint="123")
    p = Provenance.collect(model=model, store=store, seeds=[1, 2], command="x", run="r1")
    assert (p.model, p.fingerprint, p.store_digest, p.seeds, p.command) == ("tiny", "123", want, [1, 2], "x")
    assert store_digest(store) == want
    q = Provenance.collect(store=store, command="y")
    assert (q.model, q.fingerprint) == ("organism", "f00")
    assert ("run", "r1") in p.rows() and p.rows()[-1] == ("command", "x")


def test_from_dict_round_trip_and_extras():
    p = Provenance(model="m", seeds={"gen": 0}, versions={"torch": "2"}, command="c", extra={"date": "2024-05-01"})
    assert Provenance.from_dict(p.to_dict()) == p
    q = Provenance.from_dict({"model": "m", "minutes": 3.5, "versions": {"a": "1"}, "command": "c"})
    assert q.extra == {"minutes": 3.5}
    html = q.html()
    assert "<th>minutes</th><td><code>3.5</code>" in html and "<th>fingerprint</th>" not in html


def test_bad_provenance_is_named(tmp_path):
    with pytest.raises(ReportError, match="prov.json must be a JSON object"):
        Provenance.from_dict([1], "prov.json")
    with pytest.raises(ReportError, match="'versions' must be an object"):
        Provenance.from_dict({"versions": "1.0"})
    with pytest.raises(ReportError, match="no metadata.json"):
        store_digest(tmp_path)
