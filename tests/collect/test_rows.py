import numpy as np
import torch

from musicinterp.collect.rows import binary_concepts, binary_labels, frame_rows
from musicinterp.data.concept_set import ConceptSet

CS = ConceptSet("r", {"b": torch.tensor([0, 1, 1]), "level": torch.tensor([0.5, 2.0, 0.0])}, ["x", "y", "z"],
                ["g", "g", "h"], codes=torch.zeros(3, 4, 8, dtype=torch.long))


def test_frame_rows_repeat_clip_fields_per_position():
    t = frame_rows(CS, [2, 0], [np.array([4, 5, 6]), np.array([9])], ["uncond", "uncond"], ["train", "val", "val"],
                   ["b", "level"])
    assert t.column("clip_index").to_pylist() == [2, 2, 2, 0]
    assert t.column("position").to_pylist() == [4, 5, 6, 9]
    assert t.column("clip_id").to_pylist() == ["z", "z", "z", "x"]
    assert t.column("split").to_pylist() == ["val", "val", "val", "train"]
    assert t.column("label_level").to_pylist() == [0.0, 0.0, 0.0, 0.5]
    assert str(t.schema.field("position").type) == "int32"
    assert frame_rows(CS, [], [], [], ["train"] * 3, ["b"]).num_rows == 0


def test_only_binary_concepts_get_class_labels():
    assert binary_concepts(CS, ["b", "level"]) == ["b"]
    lab = binary_labels(CS, ["b"], [1, 0], [2, 3])
    assert lab["b"].tolist() == [1, 1, 0, 0, 0]
