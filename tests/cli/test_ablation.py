"""``musicinterp ablate|patch`` on the organism: results and figures written, bad input refused."""

import argparse
import json

import pytest

from musicinterp.ablation.result import SweepResult
from musicinterp.cli.ablation import add_ablation_parsers


def _run(argv):
    parser = argparse.ArgumentParser()
    add_ablation_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_ablate_skip_writes_result(tmp_path, capsys):
    out = tmp_path / "abl"
    assert _run(["ablate", "--mode", "skip", "--organism-clips", "2", "--seconds", "0.4", "--text", "drums",
                 "--out", str(out)]) == 0
    res = SweepResult.load(out)
    assert res.axes == ("layer",) and res.shape == (4,) and res.codebooks[1] == "drums"
    assert (out / "sweep.html").is_file()
    top = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["top"]
    assert len(top) == 4


def test_patch_organism_prompts(tmp_path):
    out = tmp_path / "patch"
    assert _run(["patch", "--concept", "drums", "--organism-clips", "2", "--seconds", "0.4", "--site", "cross_z",
                 "--over", "layer", "head", "--metric", "logit_diff:drums", "--out", str(out)]) == 0
    res = SweepResult.load(out)
    assert res.shape == (4, 8) and res.info["clean"] == "'drums'"


def test_bad_cli_input(tmp_path):
    with pytest.raises(ValueError, match="give exactly one of --codes"):
        _run(["ablate", "--mode", "zero", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="store: mode='mean' needs"):
        _run(["ablate", "--organism-clips", "2", "--seconds", "0.2", "--out", str(tmp_path)])
