import json

import pytest

from musicinterp.store import layout as LY
from musicinterp.store.errors import (
    StoreError,
    StoreFormatError,
    StoreModelMismatchError,
    StoreOverwriteError,
    StoreRequestMismatchError,
)
from musicinterp.store.folder import decide, prepare
from musicinterp.store.owned import MARKER

CONFIG = {"kind": "clips", "model_id": "tiny", "model_fingerprint": "f1", "concept_set_digest": "d1",
          "sites": ["resid"], "frames": "valid", "dtype": "float32", "branch": "uncond", "text": None,
          "seed": 0, "skip_bad": False, "clips_per_chunk": 4, "batch_size": 4, "num_processes": 1, "n_chunks": 3}


def test_decisions(tmp_path):
    root = tmp_path / "s"
    assert decide(root, CONFIG, False) == "fresh"
    prepare(root, CONFIG, "fresh")
    assert decide(root, CONFIG, False) == "resume"
    with pytest.raises(StoreRequestMismatchError, match="unfinished collection .*clips_per_chunk: 4 there, 8"):
        decide(root, {**CONFIG, "clips_per_chunk": 8}, False)
    with pytest.raises(StoreModelMismatchError, match="fingerprint f1.*fingerprint f2"):
        decide(root, {**CONFIG, "model_fingerprint": "f2"}, False)
    assert decide(root, {**CONFIG, "sites": ["attn_z"]}, True) == "overwrite"
    (root / LY.METADATA).write_text(json.dumps({**CONFIG, "clips_per_chunk": 99}))
    assert decide(root, CONFIG, False) == "reuse"  # a finished store does not care how it was chunked
    with pytest.raises(StoreRequestMismatchError, match="complete store .*sites: \\['resid'\\] there"):
        decide(root, {**CONFIG, "sites": ["attn_z"]}, False)
    (root / LY.METADATA).write_text("{trunc")
    with pytest.raises(StoreFormatError, match="metadata.json: not valid JSON"):
        decide(root, CONFIG, False)
    prepare(root, CONFIG, "overwrite")
    assert sorted(p.name for p in root.iterdir()) == [LY.PROGRESS, MARKER]
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        decide(tmp_path / "file", CONFIG, False)


def test_overwrite_deletes_only_a_store_this_package_wrote(tmp_path):
    root = tmp_path / "s"
    prepare(root, CONFIG, "fresh")
    LY.atomic_write_json(LY.chunk_record_path(root, "r00-00000"), {"index": 0})
    (root / "notes.txt").write_text("mine")
    with pytest.raises(StoreOverwriteError, match=r"holds files musicinterp did not write \(notes.txt\); "
                                                  r"nothing was deleted"):
        decide(root, CONFIG, True)
    with pytest.raises(StoreOverwriteError, match="notes.txt"):
        prepare(root, CONFIG, "overwrite")
    assert (root / "notes.txt").read_text() == "mine" and LY.chunk_record_path(root, "r00-00000").is_file()
    (root / "notes.txt").unlink()
    assert decide(root, CONFIG, True) == "overwrite"

    other = tmp_path / "work"  # a folder of somebody's files, without the marker
    other.mkdir()
    (other / LY.METADATA).write_text("{}")
    with pytest.raises(StoreOverwriteError, match=f"has no {MARKER}, so it was not written by musicinterp"):
        decide(other, CONFIG, True)
    assert (other / LY.METADATA).is_file()


def test_no_sites_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(StoreError, match="no sites requested"):
        decide(tmp_path / "s", {**CONFIG, "sites": []}, False)
    assert not (tmp_path / "s").exists()
