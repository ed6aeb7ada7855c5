import json

from musicinterp.cli.main import main


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


def test_project_errors_are_one_line_and_exit_2(tmp_path, capsys):
    from musicinterp.cli.main import main

    assert main(["probe", str(tmp_path / "missing"), "--concept", "drums"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("musicinterp: error: StoreError:") and err.count("\n") == 1
    bad = tmp_path / "steerer"
    bad.mkdir()
    (bad / "steerer.json").write_text("{")
    (bad / "steerer.safetensors").write_bytes(b"")
    assert main(["steer", str(bad), "--model", "tiny", "--out", str(tmp_path / "o")]) == 2
    assert "SteererFileError" in capsys.readouterr().err
