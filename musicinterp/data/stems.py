"""Build paired with/without-stem segments from a stems folder (MUSDB18 layout or any like it).

Each track is a folder of WAV stems (``drums.wav``, ``bass.wav``, ``other.wav``,
``vocals.wav``...; ``mixture.wav`` is ignored). For each segment where the
target stem is audible, two mixes are written: all stems, and all stems but the
target. This is how SMITIN built its drums/bass concept sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from .audio import AudioError, check_header, resample
from .names import safe_name, to_name


def _read(path: Path, rate: int) -> np.ndarray:
    try:  # whole tracks: up to an hour and 4 GB, the header checked first
        check_header(path, sf.info(str(path)), rate, 0.0, None, max_seconds=3600.0, max_bytes=4 << 30)
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise AudioError(f"cannot read stem {path}: {err}") from err
    return resample(data.mean(axis=1), sr, rate)


def build_stem_manifest(stems_root: str | Path, out_dir: str | Path, *, stem: str = "drums",
                        segment_s: float = 10.0, hop_s: float | None = None, sample_rate: int = 32000,
                        min_rms_db: float = -40.0, max_segments_per_track: int | None = None,
                        progress: bool = True) -> Path:
    """Write mixes and ``manifest.json`` (kind ``audio``, concept ``stem``) into ``out_dir``; return its path."""
    safe_name(stem, field="stem")  # it names the concept and the files written
    stems_root, out_dir = Path(stems_root), Path(out_dir)
    tracks = sorted(p for p in stems_root.iterdir() if p.is_dir() and (p / f"{stem}.wav").is_file()) \
        if stems_root.is_dir() else []
    if not tracks:
        raise AudioError(f"no track folders with a {stem}.wav stem under {stems_root}")
    hop = hop_s or segment_s
    seg, step = int(segment_s * sample_rate), int(hop * sample_rate)
    entries = []
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    names: dict[Path, str] = {}
    for track in tracks:  # ids and file names come from folder names: made into names, kept distinct
        base = to_name(track.name)
        names[track] = base if base not in names.values() else f"{base}-{len(names)}"
    for track in tqdm(tracks, desc=f"mixing {stem} segments", disable=not progress):
        stems = {p.stem: _read(p, sample_rate) for p in sorted(track.glob("*.wav")) if p.stem != "mixture"}
        length = min(len(x) for x in stems.values())
        stems = {k: v[:length] for k, v in stems.items()}
        full = sum(stems.values())
        without = full - stems[stem]
        n = 0
        for start in range(0, length - seg + 1, step):
            target = stems[stem][start : start + seg]
            if 20 * np.log10(np.sqrt(np.mean(target**2)) + 1e-12) < min_rms_db:
                continue
            group = f"{names[track]}-{start // step:04d}"
            for label, mix in ((1, full), (0, without)):
                rel = f"audio/{group}-{'with' if label else 'without'}-{stem}.wav"
                chunk = mix[start : start + seg]
                peak = max(1.0, float(np.abs(chunk).max()))
                sf.write(out_dir / rel, chunk / peak, sample_rate, subtype="PCM_16")
                entries.append({"id": f"{group}-{label}", "path": rel, "labels": {stem: label}, "group": group})
            n += 1
            if max_segments_per_track and n >= max_segments_per_track:
                break
    if not entries:
        raise AudioError(f"no segment of any track under {stems_root} has an audible {stem} stem")
    manifest = {"kind": "audio", "name": f"{stem}-stems-{stems_root.name}", "concepts": {stem: "binary"},
                "source": str(stems_root), "segment_s": segment_s, "entries": entries}
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path
