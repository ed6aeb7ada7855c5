import pytest
import torch

from musicinterp.models import MusicGen, load_model
from musicinterp.models import sources as S
from musicinterp.world import AudioWorld, World


class FakeWorld(World):
    name = "fake"
    concepts = ("hum",)


@pytest.fixture
def fake_source(tiny, monkeypatch):
    monkeypatch.setattr(S, "_SOURCES", dict(S._SOURCES))  # registrations end with the test
    loaded = []

    def load(spec, dtype, device):
        loaded.append((spec, dtype, device.type))
        return MusicGen(tiny.hf, spec, source="fake")

    S.register_source(S.ModelSource("fake", lambda spec: spec.startswith("fake:"), load, FakeWorld))
    return loaded


def test_a_registered_source_is_found_by_spec_and_its_world_attached(fake_source):
    assert S.find_source("fake:one").name == "fake" and S.find_source("tiny") is None
    model = load_model("fake:one", dtype="bfloat16")
    assert fake_source == [("fake:one", torch.bfloat16, "cpu")]
    assert isinstance(model.world, FakeWorld) and model.world.check_concept("hum") == "hum"
    assert "fake" in [s.name for s in S.sources()]


def test_unregistered_sources_get_the_default_world(tiny):
    assert isinstance(S.world_for("random"), AudioWorld) and isinstance(tiny.world, AudioWorld)
    bare = MusicGen(tiny.hf, "bare", source="nowhere")
    assert getattr(bare, "world", None) is None
    world = S.world_of(bare)
    assert isinstance(world, AudioWorld) and S.world_of(bare) is world  # attached once, then kept
