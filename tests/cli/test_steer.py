import json

from safetensors.torch import load_file

from musicinterp.cli.main import main
from musicinterp.collect import collect
from musicinterp.organism import balanced_set


def test_fit_then_steer_from_the_command_line(organism, tmp_path, capsys):
    store = collect(organism, balanced_set("drums", 12, seed=4, n_frames=32), ["resid"], out=tmp_path / "store",
                    progress=False)
    assert main(["fit", "diffmeans", str(store.root), "--concept", "drums", "--out", str(tmp_path / "dm"),
                 "--set", "layers=[3]"]) == 0
    assert main(["steer", str(tmp_path / "dm"), "--model", "organism", "--batch", "2", "--seconds", "0.5",
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert load_file(tmp_path / "out" / "codes.safetensors")["codes"].shape == (2, 4, 25)
    assert sorted(p.name for p in (tmp_path / "out").glob("sample_*.wav")) == ["sample_0.wav", "sample_1.wav"]
    detected = json.loads(next(line for line in out.splitlines() if line.startswith('{"detected"')))["detected"]
    assert set(detected) == {"drums", "tempo", "timbre", "bass"} and all(len(v) == 2 for v in detected.values())
    assert json.loads((tmp_path / "out" / "steering_log.json").read_text())
    assert main(["fit", "pca", str(store.root), "--concept", "drums", "--out", str(tmp_path / "x")]) == 2
    assert "unknown method 'pca'" in capsys.readouterr().err
