"""CLAP judges: zero-shot concept presence and text adherence from a CLAP model loaded offline.

* :func:`load_clap` finds a checkpoint in a local folder or the Hugging Face cache
  (never downloads) and returns a :class:`~musicinterp.judges.clap_model.ClapHandle`.
* :class:`ClapConceptJudge` scores a concept as the mean, over prompt templates, of
  ``cos(audio, positive) - cos(audio, negative)``: a cosine margin in ``[-2, 2]``.
  For one template, CLAP's two-way softmax probability is
  ``sigmoid(logit_scale * margin)``, a monotone function of it, so a threshold on
  the margin is a threshold on that probability; the margin is kept because it
  does not depend on the (learned, checkpoint-specific) logit scale.
* :class:`ClapTextAdherence` scores each clip by the cosine between its audio
  and its own prompt: a fidelity column for text-conditioned generation.

Default thresholds (0 margin: closer to the positive than to the negative prompt;
0 cosine for adherence) are placeholders: ``calibrate`` on labelled audio.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models.hub import (
    CheckpointNotFoundError,
    fetch_command,
    locate_checkpoint,
    places_looked,
    quiet_transformers,
)
from .audio import Calibration, calibrate_threshold
from .base import AudioInput, BaseJudge, JudgeInputError, as_audio_list, check_sample_rate
from .clap_model import (
    ClapFileError,
    ClapHandle,
    ClapNotFoundError,
    DegenerateTextError,
    default_feature_extractor,
)

DEFAULT_CLAP = "laion/clap-htsat-unfused"
# Checkpoints known to embed every caption alike (measured: mean pairwise caption cosine 0.999).
KNOWN_DEGENERATE_TEXT: dict[str, str] = {
    "laion/larger_clap_music": "its text projection embeds every caption almost identically (cosine ~0.999), "
                               "so zero-shot judging with it is at chance",
}
# Named local checkpoints: name -> folder, or a function returning it (resolved only when asked for).
CLAP_CHECKPOINTS: dict[str, Path | str | Callable[[], Path]] = {}
DEFAULT_TEMPLATES = ("{}", "music with {}", "a recording of {}", "a song with {}")
NEUTRAL_PROMPT = "music"


def resolve_clap_spec(spec: str | Path) -> str:
    """A named checkpoint (:data:`CLAP_CHECKPOINTS`) -> its folder; anything else (folder, hub id) unchanged."""
    target = CLAP_CHECKPOINTS.get(str(spec), spec)
    return str(target() if callable(target) else target)


def locate_clap(spec: str | Path) -> Path:
    """The local folder holding CLAP ``spec`` (named, folder, or hub id in the cache). Never downloads."""
    resolved = resolve_clap_spec(spec)
    try:
        return locate_checkpoint(resolved)
    except CheckpointNotFoundError as err:
        looked = "\n  - ".join(places_looked(resolved))
        named = ", ".join(sorted(CLAP_CHECKPOINTS)) or "none registered"
        raise ClapNotFoundError(
            f"CLAP checkpoint {str(spec)!r} was not found locally (named CLAP checkpoints: {named}). "
            f"Looked in:\n  - {looked}\nmusicinterp never downloads weights: on a machine with network access "
            f"run `{fetch_command(resolved if '/' in resolved else DEFAULT_CLAP)}`, copy its hub cache here and "
            f"set HF_HOME to its parent (or HF_HUB_CACHE to the folder itself); or save a ClapModel and its "
            f"ClapFeatureExtractor with `save_pretrained(folder)` and pass that folder."
        ) from err


def known_degenerate(where: str) -> str | None:
    """Why ``where`` (a hub id, or a folder or cache path) names a checkpoint known to be degenerate, else None."""
    for repo, why in KNOWN_DEGENERATE_TEXT.items():
        if where == repo or "models--" + repo.replace("/", "--") in where or Path(where).name == repo.split("/")[-1]:
            return f"{repo}: {why}"
    return None


def load_clap(spec: str | Path = DEFAULT_CLAP, *, device: str | torch.device = "cpu",
              dtype: torch.dtype = torch.float32, allow_degenerate_text: bool = False,
              batch_size: int = 8) -> ClapHandle:
    """A :class:`ClapHandle` for ``spec`` (a named checkpoint, a local folder or a cached hub id), offline.

    A checkpoint with a degenerate text projection is refused (:class:`DegenerateTextError`)
    unless ``allow_degenerate_text=True``, which warns and keeps its audio embeddings usable.
    """
    why = known_degenerate(str(spec))
    if why and not allow_degenerate_text:
        raise DegenerateTextError(f"refusing CLAP {str(spec)!r}: {why}. Use {DEFAULT_CLAP} or "
                                  "laion/larger_clap_general, or pass allow_degenerate_text=True")
    folder = locate_clap(spec)
    why = known_degenerate(str(folder))
    if why and not allow_degenerate_text:
        raise DegenerateTextError(f"refusing CLAP folder {folder}: {why}; pass allow_degenerate_text=True to use it")
    from transformers import ClapModel

    try:
        with quiet_transformers():
            model = ClapModel.from_pretrained(str(folder), local_files_only=True, dtype=dtype)
    except (OSError, ValueError, KeyError) as err:
        raise ClapFileError(f"{folder} does not hold a loadable ClapModel ({type(err).__name__}: {err})") from err
    handle = ClapHandle.from_model(model.to(device), _load_extractor(folder, model), _load_tokenizer(folder),
                                   name=str(spec), allow_degenerate_text=allow_degenerate_text)
    handle.batch_size = int(batch_size)
    return handle


def _load_extractor(folder: Path, model: Any) -> Any:
    """The folder's ``ClapFeatureExtractor``, or the LAION default matching the model (with a warning)."""
    from transformers import ClapFeatureExtractor

    if (folder / "preprocessor_config.json").is_file():
        return ClapFeatureExtractor.from_pretrained(str(folder), local_files_only=True)
    warnings.warn(f"{folder} has no preprocessor_config.json: using the LAION CLAP feature extractor "
                  "(48 kHz, 10 s windows, 64 mels)", stacklevel=3)
    return default_feature_extractor(model)


def _load_tokenizer(folder: Path) -> Any:
    """The folder's tokenizer, or None when it has no tokenizer files (text then needs ``input_ids``)."""
    if not any((folder / f).is_file() for f in ("tokenizer.json", "vocab.json", "tokenizer_config.json")):
        return None
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as err:
        warnings.warn(f"could not load the tokenizer in {folder} ({err}); text judges need input_ids", stacklevel=3)
        return None


class _ClapJudge(BaseJudge):
    """Audio in; embeddings through a :class:`ClapHandle`; threshold calibration from labelled audio."""

    needs = "audio"

    def calibrate(self, audio: AudioInput, labels: Any, sample_rate: int) -> Calibration:
        """Set :attr:`threshold` to the one maximising balanced accuracy against ``labels`` on ``audio``."""
        cal = calibrate_threshold(self.score_audio(as_audio_list(audio), check_sample_rate(sample_rate)), labels)
        self.threshold = cal.threshold
        return cal


class ClapConceptJudge(_ClapJudge):
    """Zero-shot presence of ``concept``: mean over templates of cos(audio, positive) - cos(audio, negative).

    ``negative=None`` compares against the neutral prompt :data:`NEUTRAL_PROMPT` instead of an opposite.
    """

    def __init__(self, handle: ClapHandle, concept: str, positive: str | None = None, negative: str | None = None,
                 templates: Sequence[str] = DEFAULT_TEMPLATES, threshold: float | None = None,
                 name: str | None = None) -> None:
        templates = (templates,) if isinstance(templates, str) else tuple(templates)
        if not templates or any(t.count("{}") != 1 for t in templates):
            raise JudgeInputError(f"templates must each hold one '{{}}' for the words, got {templates!r}")
        positive = concept if positive is None else positive
        self.handle, self.concept, self.name = handle, concept, name or f"clap:{concept}"
        self.threshold = 0.0 if threshold is None else float(threshold)
        self.positive_prompts = tuple(t.format(positive) for t in templates)
        self.negative_prompts = tuple(t.format(negative) if negative else NEUTRAL_PROMPT for t in templates)
        self._text: tuple[np.ndarray, np.ndarray] | None = None

    def text_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """``(T, D)`` positive and negative prompt embeddings (computed once)."""
        if self._text is None:
            emb = self.handle.embed_text(list(self.positive_prompts + self.negative_prompts))
            self._text = emb[:len(self.positive_prompts)], emb[len(self.positive_prompts):]
        return self._text

    def score_audio(self, audio: list[np.ndarray], sample_rate: int) -> np.ndarray:
        pos, neg = self.text_embeddings()
        a = self.handle.embed_audio(audio, sample_rate)
        return ((a @ pos.T) - (a @ neg.T)).mean(axis=1).astype(np.float64)


class ClapTextAdherence(_ClapJudge):
    """Cosine between each clip's audio and its own prompt (one prompt for all clips, or one per clip)."""

    def __init__(self, handle: ClapHandle, prompts: str | Sequence[str], threshold: float | None = None,
                 name: str = "clap:adherence", concept: str = "adherence") -> None:
        self.prompts = (prompts,) if isinstance(prompts, str) else tuple(prompts)
        if not self.prompts or not all(isinstance(p, str) for p in self.prompts):
            raise JudgeInputError("prompts must be a string or a non-empty list of strings")
        self.handle, self.name, self.concept = handle, name, concept
        self.threshold = 0.0 if threshold is None else float(threshold)
        self._text: dict[str, np.ndarray] = {}

    def prompt_embeddings(self, n: int) -> np.ndarray:
        """``(n, D)``: each clip's prompt embedding (a single prompt is shared)."""
        if len(self.prompts) not in (1, n):
            raise JudgeInputError(f"{n} clips but {len(self.prompts)} prompts: give one prompt per clip, or one")
        missing = sorted({p for p in self.prompts if p not in self._text})
        if missing:
            self._text.update(zip(missing, self.handle.embed_text(missing), strict=True))
        prompts = self.prompts * n if len(self.prompts) == 1 else self.prompts
        return np.stack([self._text[p] for p in prompts])

    def score_audio(self, audio: list[np.ndarray], sample_rate: int) -> np.ndarray:
        text = self.prompt_embeddings(len(audio))
        return np.einsum("bd,bd->b", self.handle.embed_audio(audio, sample_rate), text).astype(np.float64)

    def calibrate_by_mismatch(self, audio: AudioInput, sample_rate: int) -> Calibration:
        """Threshold separating each clip with its own prompt from the same clip with the next clip's prompt."""
        clips = as_audio_list(audio)
        if len(set(self.prompts)) < 2 or len(self.prompts) != len(clips):
            raise JudgeInputError("calibrate_by_mismatch needs one prompt per clip, at least two different")
        a, text = self.handle.embed_audio(clips, sample_rate), self.prompt_embeddings(len(clips))
        shifted = [j for j in range(1, len(clips)) if self.prompts[j] != self.prompts[0]][0]
        other = np.roll(text, -shifted, axis=0)
        keep = np.array([self.prompts[i] != self.prompts[(i + shifted) % len(clips)] for i in range(len(clips))])
        scores = np.concatenate([(a * text).sum(1), (a * other).sum(1)[keep]])
        cal = calibrate_threshold(scores, np.r_[np.ones(len(clips), bool), np.zeros(int(keep.sum()), bool)])
        self.threshold = cal.threshold
        return cal


def clap_judges(handle: ClapHandle, words: dict[str, tuple[str, str | None] | str],
                templates: Sequence[str] = DEFAULT_TEMPLATES) -> list[ClapConceptJudge]:
    """One :class:`ClapConceptJudge` per concept: ``{concept: (positive, negative or None)}`` or ``{concept: positive}``."""
    judges = []
    for concept, pair in words.items():
        positive, negative = (pair, None) if isinstance(pair, str) else tuple(pair)
        judges.append(ClapConceptJudge(handle, concept, positive, negative, templates=templates))
    return judges
