from musicinterp import generate, load_model
from musicinterp.organism import detect_all
from musicinterp.organism.checkpoint import SHIPPED, organism_metadata


def test_shipped_checkpoint_loads_and_generates_one_second():
    meta = organism_metadata()
    assert (SHIPPED / "model.safetensors").stat().st_size < 30e6
    loss = meta["training"]["loss"]  # the recorded curve went down and ends at the held-out NLL's level
    assert len(loss) == len(meta["training"]["steps"]) and loss[-1] < 0.1 * loss[0]
    assert abs(loss[-1] - meta["training"]["heldout_nll"]) < 0.05
    model = load_model("organism")
    assert (model.n_codebooks, model.codebook_size, model.frame_rate, model.sample_rate) == (4, 256, 50, 32000)
    out = generate(model, text=["drums", "no drums"], n_frames=50, seed=0)
    assert out.codes.shape == (2, 4, 50) and out.audio.shape == (2, 50 * 640)
    assert int(out.codes.max()) < 256
    det = detect_all(out.codes)
    assert det["drums"].tolist() == [1, 0]
