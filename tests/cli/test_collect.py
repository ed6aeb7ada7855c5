import argparse
import json

import pytest

from musicinterp.cli.collect import add_collect_parsers
from musicinterp.store import ActivationStore, StoreError


def _parser():
    parser = argparse.ArgumentParser(prog="musicinterp")
    add_collect_parsers(parser.add_subparsers(dest="command", required=True))
    return parser


def _manifest(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"kind": "organism", "name": "cli", "concept": "drums", "count": 6, "seed": 0,
                                "paired": False, "n_frames": 12}))
    return path


def test_parser_takes_the_collect_arguments():
    args = _parser().parse_args(["collect", "m.json", "--out", "s", "--frames", "2,5", "--distributed",
                                 "--sites", "resid", "--budget-mb", "64"])
    assert args.frames == (2, 5) and args.distributed and args.sites == ["resid"] and args.budget_mb == 64
    with pytest.raises(SystemExit):
        _parser().parse_args(["collect", "m.json", "--out", "s", "--frames", "2,x"])


def test_cli_collects_and_errors_propagate(tmp_path, capsys):
    args = _parser().parse_args(["collect", str(_manifest(tmp_path)), "--model", "tiny", "--out",
                                 str(tmp_path / "s"), "--sites", "resid", "--quiet"])
    assert args.func(args) == 0
    assert "ActivationStore(" in capsys.readouterr().out
    assert ActivationStore.open(tmp_path / "s").meta["n_clips_kept"] == 6
    args = _parser().parse_args(["collect", str(_manifest(tmp_path)), "--model", "tiny", "--out",
                                 str(tmp_path / "s"), "--sites", "attn_z", "--quiet"])
    with pytest.raises(StoreError, match="different settings"):
        args.func(args)
