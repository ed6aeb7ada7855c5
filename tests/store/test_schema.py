"""Malformed store files must end in the project's own errors, naming the file and the field."""

import json
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from musicinterp.collect import collect
from musicinterp.store import ActivationStore, StoreError
from musicinterp.store import layout as LY
from musicinterp.store.errors import StoreFormatError
from musicinterp.store.schema import FIELDS

from .conftest import random_set

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2), st.text(max_size=4),
                        st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=2), st.integers(),
                                                                                 max_size=2))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, tiny):
    root = tmp_path_factory.mktemp("schema") / "s"
    collect(tiny, random_set(n=6), ["attn_z", "resid"], out=root, batch_size=3, progress=False)
    return root


class Copy:
    """A fresh copy of the store to damage."""

    def __init__(self, pristine: Path) -> None:
        self.dir = Path(tempfile.mkdtemp())
        self.root = self.dir / "s"
        shutil.copytree(pristine, self.root)
        self.meta = json.loads((self.root / LY.METADATA).read_text())

    def write_meta(self, meta) -> None:
        (self.root / LY.METADATA).write_text(json.dumps(meta))

    def replace_file(self, rel: str, data: bytes) -> None:
        """Rewrite a file and record its new size and digest, as a faulty writer would have."""
        (self.root / rel).write_bytes(data)
        self.meta["files"][rel] = {"bytes": len(data), "sha256": LY.file_digest(self.root / rel)}
        self.write_meta(self.meta)

    def open_error(self) -> StoreError:
        try:
            ActivationStore.open(self.root)
        except StoreError as err:
            return err
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        raise AssertionError("a malformed store opened without error")


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


@SETTINGS
@given(cut=st.floats(0, 0.999))
def test_truncated_metadata(pristine, cut):
    c = Copy(pristine)
    text = (c.root / LY.METADATA).read_text()
    (c.root / LY.METADATA).write_text(text[: int(cut * len(text))])
    err = c.open_error()
    assert isinstance(err, StoreFormatError) and "metadata.json" in str(err) and "not valid JSON" in str(err)


@SETTINGS
@given(field=st.sampled_from(sorted(FIELDS)))
def test_missing_metadata_field(pristine, field):
    c = Copy(pristine)
    del c.meta[field]
    c.write_meta(c.meta)
    err = c.open_error()
    assert isinstance(err, StoreFormatError) and "metadata.json" in str(err) and f"'{field}' is missing" in str(err)


@SETTINGS
@given(field=st.sampled_from(sorted(FIELDS)), value=JSON_VALUES)
def test_metadata_field_of_the_wrong_type(pristine, field, value):
    assume(not FIELDS[field][0](value))  # values the field's own rule rejects
    c = Copy(pristine)
    c.meta[field] = value
    c.write_meta(c.meta)
    err = c.open_error()
    assert isinstance(err, StoreFormatError) and "metadata.json" in str(err) and f"'{field}'" in str(err)


@SETTINGS
@given(data=st.data())
def test_inconsistent_metadata_values(pristine, data):
    c = Copy(pristine)
    what = data.draw(st.sampled_from(["n_layers", "site_shape", "chunk_rows", "chunk_name", "file_record",
                                      "file_path", "not_object", "chunk_entry"]))
    if what == "n_layers":
        c.meta["n_layers"] = data.draw(st.integers(1, 6).filter(lambda v: v != 2))
    elif what == "site_shape":
        site = data.draw(st.sampled_from(["attn_z", "resid"]))
        shape = data.draw(st.lists(st.integers(1, 70), min_size=1, max_size=3))
        assume(shape != c.meta["site_shapes"][site])
        c.meta["site_shapes"][site] = shape
    elif what == "chunk_rows":
        i = data.draw(st.integers(0, 1))
        c.meta["chunks"][i]["n_rows"] = data.draw(st.integers(0, 100).filter(lambda v: v != 33))
    elif what == "chunk_name":
        c.meta["chunks"][1]["name"] = data.draw(st.sampled_from(["r00-00000", "../x", "", "r0-1"]))
    elif what == "file_record":
        rel = data.draw(st.sampled_from(sorted(c.meta["files"])))
        c.meta["files"][rel] = data.draw(st.one_of(JSON_VALUES, st.just({"bytes": 1, "sha256": "xyz"})))
    elif what == "file_path":
        rel = data.draw(st.sampled_from(sorted(c.meta["files"])))
        c.meta["files"]["../" + rel] = c.meta["files"].pop(rel)
    elif what == "chunk_entry":
        c.meta["chunks"][0] = data.draw(JSON_VALUES)
    else:
        c.meta = data.draw(st.lists(st.integers(), max_size=2))
    c.write_meta(c.meta)
    err = c.open_error()
    assert isinstance(err, StoreError)
    msg = str(err)
    assert ("metadata.json" in msg and ("field" in msg or "JSON object" in msg)) or (
        ".safetensors: field '" in msg) or "is damaged: missing file" in msg, msg


@SETTINGS
@given(data=st.data())
def test_malformed_tables(pristine, data):
    c = Copy(pristine)
    rel = data.draw(st.sampled_from([LY.INDEX, LY.CLIPS]))
    table = pq.read_table(c.root / rel)
    how = data.draw(st.sampled_from(["drop", "retype", "rows", "truncate"]))
    required = ["clip_id", "split"] + [n for n in table.column_names if n.startswith("label_")]
    if rel == LY.INDEX:
        required += ["clip_index", "position", "branch"]
    else:
        required += ["group", "n_frames", "n_rows", "first_row"]
    col = data.draw(st.sampled_from(sorted(required)))
    if how == "drop":
        blob = _parquet_bytes(table.drop_columns([col]))
    elif how == "retype":
        kind = pa.string() if not pa.types.is_string(table.schema.field(col).type) else pa.int64()
        values = [str(v) for v in table.column(col).to_pylist()] if kind == pa.string() else list(range(table.num_rows))
        blob = _parquet_bytes(table.set_column(table.column_names.index(col), col, pa.array(values, kind)))
    elif how == "rows":
        keep = data.draw(st.integers(0, table.num_rows - 1))
        blob = _parquet_bytes(table.slice(0, keep))
    else:
        raw = (c.root / rel).read_bytes()
        blob = raw[: data.draw(st.integers(0, len(raw) - 1))]
    c.replace_file(rel, blob)
    err = c.open_error()
    assert isinstance(err, StoreFormatError) and rel in str(err)
    if how in ("drop", "retype"):
        assert f"column {col!r}" in str(err)
    elif how == "rows":
        assert "rows" in str(err)


@SETTINGS
@given(data=st.data())
def test_malformed_tensor_files(pristine, data):
    c = Copy(pristine)
    rel = data.draw(st.sampled_from(sorted(r for r in c.meta["files"] if r.startswith(("pooled", "stats")))))
    raw = (c.root / rel).read_bytes()
    if data.draw(st.booleans()):
        blob = raw[: data.draw(st.integers(0, 200))]
    else:
        import torch

        blob = None
        LY.atomic_save_tensors(c.root / rel, {"mean": torch.zeros(data.draw(st.integers(0, 4)), 3)})
        blob = (c.root / rel).read_bytes()
    c.replace_file(rel, blob)
    err = c.open_error()
    assert isinstance(err, StoreFormatError) and Path(rel).name in str(err)
