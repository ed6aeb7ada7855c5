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
