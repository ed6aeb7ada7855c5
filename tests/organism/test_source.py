import pytest

from musicinterp.cli.main import build_parser
from musicinterp.models import CheckpointNotFoundError, load_model
from musicinterp.models.sources import find_source
from musicinterp.organism import OrganismWorld


def test_load_model_attaches_an_organism_world(organism):
    assert isinstance(organism.world, OrganismWorld) and organism.source == "organism"
    assert find_source("organism:/some/folder").name == "organism" and find_source("tiny") is None


def test_a_folder_without_a_checkpoint_says_how_to_train_one(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="musicinterp organism train --out"):
        load_model(f"organism:{tmp_path}")


def test_organism_command_group_parses(capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["organism", "--help"])
    assert stop.value.code == 0
    assert "train" in capsys.readouterr().out
    args = build_parser().parse_args(["organism", "sample", "--n", "2"])
    assert (args.organism_command, args.n, args.seconds) == ("sample", 2, 4.0)
