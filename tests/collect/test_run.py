"""run_collection: a finished request is reused, another is refused, overwrite deletes only what it wrote."""

import pytest

from musicinterp import load_model
from musicinterp.collect import collect
from musicinterp.store import ActivationStore, StoreModelMismatchError
from musicinterp.store.errors import StoreRequestMismatchError
from tests.store.conftest import random_set


def test_same_request_reuses_the_store_and_other_requests_are_refused(tiny, rset, tmp_path):
    store = collect(tiny, rset, ["resid"], out=tmp_path / "s", progress=False)
    stamp = (tmp_path / "s" / "metadata.json").stat().st_mtime_ns
    again = collect(tiny, rset, ["resid"], out=tmp_path / "s", batch_size=3, memory_budget_mb=100, progress=False)
    assert again.meta == store.meta and (tmp_path / "s" / "metadata.json").stat().st_mtime_ns == stamp
    with pytest.raises(StoreRequestMismatchError, match=r"complete store .*frames: 'valid' there, 'last' requested"):
        collect(tiny, rset, ["resid"], out=tmp_path / "s", frames="last", progress=False)
    relabelled = random_set()
    relabelled.labels["drums"] = 1 - relabelled.labels["drums"]
    with pytest.raises(StoreRequestMismatchError, match="concept_set_digest"):
        collect(tiny, relabelled, ["resid"], out=tmp_path / "s", progress=False)
    other = load_model("tiny", seed=1)
    with pytest.raises(StoreModelMismatchError, match="complete store .*fingerprint"):
        collect(other, rset, ["resid"], out=tmp_path / "s", progress=False)
    with pytest.raises(StoreModelMismatchError, match="fingerprint"):
        ActivationStore.open(tmp_path / "s", model=other)
    replaced = collect(tiny, rset, ["resid"], out=tmp_path / "s", frames="last", overwrite=True, progress=False)
    assert replaced.meta["frames"] == "last" and replaced.meta["n_rows"] == 12


def test_overwrite_never_deletes_files_it_did_not_write(tiny, rset, tmp_path):
    from musicinterp.store.errors import StoreOverwriteError

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("mine")
    with pytest.raises(StoreOverwriteError, match=r"s: it has no written_by_musicinterp.json"):
        collect(tiny, rset, ["resid"], out=tmp_path / "s", overwrite=True, progress=False)
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine"
    collect(tiny, rset, ["resid"], out=tmp_path / "t", progress=False)
    (tmp_path / "t" / "notes.txt").write_text("mine")  # a note left in a store
    with pytest.raises(StoreOverwriteError, match=r"did not write \(notes.txt\); nothing was deleted"):
        collect(tiny, rset, ["resid"], out=tmp_path / "t", frames="last", overwrite=True, progress=False)
    assert (tmp_path / "t" / "notes.txt").read_text() == "mine"
    assert ActivationStore.open(tmp_path / "t").meta["frames"] == "valid"  # the store is intact too
    (tmp_path / "t" / "notes.txt").unlink()
    assert collect(tiny, rset, ["resid"], out=tmp_path / "t", frames="last", overwrite=True,
                   progress=False).meta["frames"] == "last"
