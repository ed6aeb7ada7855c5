import json

from musicinterp.cli import main


def test_info_prints_shapes_and_sites(capsys):
    assert main(["info", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "2 layers x 4 heads x 16 dims" in out and "attn_z" in out and "cross_z" in out


def test_info_json_on_meta_large(capsys):
    assert main(["info", "random-large", "--device", "meta", "--dtype", "bf16", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["layers"], info["heads"], info["d_model"]) == (48, 32, 2048)


def test_missing_checkpoint_exit_code(capsys, tmp_path):
    assert main(["info", str(tmp_path / "missing")]) == 2
    assert "not found locally" in capsys.readouterr().err
