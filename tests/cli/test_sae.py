import argparse
import json

import pytest

from musicinterp.cli.sae import add_sae_parsers
from musicinterp.collect import collect
from musicinterp.organism.concept_sets import balanced_set
from musicinterp.sae import load
from musicinterp.steering import Steerer


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_sae_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sae", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def organism_store(tmp_path_factory):
    from musicinterp import load_model

    model = load_model("organism")
    out = tmp_path_factory.mktemp("cli") / "store"
    return model, collect(model, balanced_set("drums", 12, seed=5, n_frames=32), ["resid"], out=out, progress=False)


def test_train_eval_features_steer(organism_store, tmp_path, capsys):
    model, store = organism_store
    sae_dir, ev_dir, feat_dir, st_dir = (tmp_path / n for n in ("sae", "eval", "features", "steerer"))
    assert _run("train", str(store.root), "--layer", "3", "--dict-size", "64", "--k", "4", "--steps", "20",
                "--batch-size", "32", "--out", str(sae_dir)) == 0
    sae = load(sae_dir, model)
    assert sae.dict_size == 64 and sae.layer == 3
    assert _run("eval", str(sae_dir), str(store.root), "--n-clips", "3", "--out", str(ev_dir)) == 0
    summary = json.loads((ev_dir / "evaluation.json").read_text())
    assert summary["n_clips"] == 3 and [c["codebook"] for c in summary["per_codebook"]] == \
        ["lead", "drums", "brightness", "bass"]
    assert (ev_dir / "density_histogram.html").is_file()
    assert _run("features", str(sae_dir), str(store.root), "--concept", "drums", "--out", str(feat_dir)) == 0
    assert (feat_dir / "features.csv").is_file() and list(feat_dir.glob("feature_*_drums.html"))
    assert _run("steer", str(sae_dir), str(store.root), "--concept", "drums", "--mode", "ablate",
                "--out", str(st_dir)) == 0
    steerer = Steerer.load(st_dir, model)
    assert steerer.method == "sae" and steerer.config.mode == "ablate"
    assert "ce_loss_score" in capsys.readouterr().out
