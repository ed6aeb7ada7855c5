import json

import pytest

from musicinterp.store import layout as LY
from musicinterp.store.errors import (
    StoreError,
    StoreFormatError,
    StoreModelMismatchError,
    StoreRequestMismatchError,
)
from musicinterp.store.folder import decide, prepare

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
    assert sorted(p.name for p in root.iterdir()) == [LY.PROGRESS]
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        decide(tmp_path / "file", CONFIG, False)
