import json

import soundfile as sf

from musicinterp.cli.main import main


def test_sample_writes_clips_whose_detections_match_their_latents(tmp_path, capsys):
    assert main(["organism", "sample", "--out", str(tmp_path), "--n", "3", "--seed", "5", "--seconds", "0.5"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["seed"] for line in lines] == [5, 6, 7]
    for line in lines:
        assert line["detected"] == line["latents"]  # the detectors are exact on world clips
        audio, rate = sf.read(tmp_path / f"clip_{line['seed']}.wav")
        assert rate == 32000 and audio.shape[0] == 25 * 640


def test_train_clap_refuses_the_package_before_training(capsys):
    from musicinterp.organism.clap_training import SHIPPED_CLAP

    assert main(["organism", "train-clap", "--out", str(SHIPPED_CLAP / "retrained"), "--quiet"]) == 2
    assert "inside the installed musicinterp package" in capsys.readouterr().err


def test_train_clap_writes_a_loadable_checkpoint(tmp_path, capsys):
    from musicinterp.judges import load_clap

    out = tmp_path / "clap"
    assert main(["organism", "train-clap", "--out", str(out), "--clips", "4", "--steps", "1", "--threads", "1",
                 "--quiet"]) == 0
    assert "trained the organism CLAP (4 clips, 1 steps)" in capsys.readouterr().out
    meta = json.loads((out / "organism_clap.json").read_text())
    assert meta["training"]["threads"] == 1 and meta["config"]["n_train_clips"] == 4
    assert load_clap(out, allow_degenerate_text=True).sample_rate == 16000  # one step: untrained text side


def test_train_clap_refuses_a_share_of_rewritten_clips_outside_0_1(tmp_path, capsys):
    assert main(["organism", "train-clap", "--out", str(tmp_path / "clap"), "--p-perturb", "1.5", "--quiet"]) == 2
    assert "p_perturb must be in [0, 1], got 1.5" in capsys.readouterr().err
    assert not (tmp_path / "clap").exists()
