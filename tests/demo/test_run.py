import json

from musicinterp.demo.run import run_demo


def test_a_model_without_exact_judges_gets_an_activation_summary(tmp_path, capsys):
    report = run_demo(tmp_path, model_spec="tiny", quick=True)
    saved = json.loads((tmp_path / "activation_summary.json").read_text())
    assert saved == report and saved["model"] == "tiny"
    assert len(saved["attn_z_rms"]) == 2 and len(saved["attn_z_rms"][0]) == 4 and len(saved["resid_rms"]) == 2
    assert all(v > 0 for row in saved["attn_z_rms"] for v in row)
    out = capsys.readouterr().out
    assert "2 layers x 4 heads" in out and "wrote" in out and not (tmp_path / "report.html").exists()
