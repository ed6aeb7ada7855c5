"""Clean/corrupt pairs for patching: prompt word swaps and paired clips (never Gaussian noise).

* Word swaps: the same codes teacher-forced under two prompts that differ only in
  a concept word ("drums" <-> "no drums", "fast" <-> "slow").
* Paired clips: the same clip with and without a concept (a world that writes
  its own clips gives them, ``model.world.clip_pair``; or your own stems).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ..models.musicgen import MusicGen
from .inputs import AblationInputError, TeacherForced, teacher_forced


@dataclass
class Pair:
    """A clean and a corrupt run that line up frame by frame."""

    clean: TeacherForced
    corrupt: TeacherForced
    description: str = ""

    def __iter__(self):
        return iter((self.clean, self.corrupt))

    def __repr__(self) -> str:
        return f"Pair({self.description or 'clean/corrupt'}: {self.clean!r} vs {self.corrupt!r})"


def swap_words(text: str, swaps: Mapping[str, str]) -> str:
    """Swap whole words or phrases both ways (longest first): ``{"drums": "no drums"}`` turns each into the other."""
    table = {k.lower(): v for k, v in swaps.items()}
    table.update({v.lower(): k for k, v in swaps.items() if v.lower() not in table})
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])", re.IGNORECASE)
    return pattern.sub(lambda m: table[m.group(0).lower()], text)


def word_swap_pair(model: MusicGen, codes: torch.Tensor, prompts: Sequence[str] | str,
                   swaps: Mapping[str, str], *, branch: str = "cond", guidance_scale: float | None = None) -> Pair:
    """Clean = ``codes`` under ``prompts``; corrupt = the same codes under the word-swapped prompts."""
    codes = torch.as_tensor(codes)
    if codes.dim() == 2:
        codes = codes[None]
    prompts = [prompts] * codes.shape[0] if isinstance(prompts, str) else list(prompts)
    swapped = [swap_words(p, swaps) for p in prompts]
    unchanged = [p for p, s in zip(prompts, swapped, strict=True) if p == s]
    if unchanged:
        raise AblationInputError(f"prompts: {unchanged[0]!r} holds none of the swapped words {sorted(swaps)}")
    if branch == "uncond":
        raise AblationInputError("branch: a word-swap pair differs only in its text; use 'cond' or 'guided'")
    clean = teacher_forced(model, codes, text=prompts, branch=branch, guidance_scale=guidance_scale,
                           label=f"{prompts[0]!r}")
    corrupt = teacher_forced(model, codes, text=swapped, branch=branch, guidance_scale=guidance_scale,
                             label=f"{swapped[0]!r}")
    return Pair(clean, corrupt, f"{prompts[0]!r} -> {swapped[0]!r}")


def prompt_pair(model: MusicGen, codes: torch.Tensor, clean_text: str, corrupt_text: str, *, branch: str = "cond",
                guidance_scale: float | None = None) -> Pair:
    """The same codes under two prompts (e.g. ``"drums"`` and ``"no drums"``)."""
    codes = torch.as_tensor(codes)
    if codes.dim() == 2:
        codes = codes[None]
    clean = teacher_forced(model, codes, text=clean_text, branch=branch, guidance_scale=guidance_scale,
                           label=repr(clean_text))
    corrupt = teacher_forced(model, codes, text=corrupt_text, branch=branch, guidance_scale=guidance_scale,
                             label=repr(corrupt_text))
    return Pair(clean, corrupt, f"{clean_text!r} -> {corrupt_text!r}")


def clip_pair(model: MusicGen, with_concept: torch.Tensor, without_concept: torch.Tensor, *,
              text: Sequence[str] | str | None = None, branch: str | None = None,
              guidance_scale: float | None = None) -> Pair:
    """Clean = clips with the concept, corrupt = the same clips without it (same shapes)."""
    a, b = torch.as_tensor(with_concept), torch.as_tensor(without_concept)
    if a.shape != b.shape:
        raise AblationInputError(f"without_concept: shape {tuple(b.shape)} does not match with_concept "
                                 f"{tuple(a.shape)}")
    clean = teacher_forced(model, a, text=text, branch=branch, guidance_scale=guidance_scale, label="with")
    corrupt = teacher_forced(model, b, text=text, branch=branch, guidance_scale=guidance_scale, label="without")
    return Pair(clean, corrupt, "with -> without")
