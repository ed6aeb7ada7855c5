"""The organism's continuation judges: exact key kept and tempo kept, read from codes."""

from __future__ import annotations

from ..judges.continuity import KeptJudge
from .detectors import CONCEPT_DETECTORS
from .judges import KeyJudge, _check_codes


class OrganismKeyKept(KeptJudge):
    """Score: fraction of the continuation's lead onsets inside the prompt's scale; kept at >= 0.9."""

    name, concept, threshold = "kept:key", "key", 0.9

    def compare(self, prompt, continuation, decoder, sample_rate):
        result = KeyJudge.like(_check_codes(prompt), threshold=self.threshold)(_check_codes(continuation))
        return result.scores, result.present


class OrganismTempoKept(KeptJudge):
    """Score: the continuation's lead onset rate minus the prompt's; kept when the exact tempo detector agrees."""

    name, concept = "kept:tempo", "tempo"

    def compare(self, prompt, continuation, decoder, sample_rate):
        det = CONCEPT_DETECTORS["tempo"]
        before, after = det.score(_check_codes(prompt)), det.score(_check_codes(continuation))
        kept = (before > det.threshold) == (after > det.threshold)
        return (after - before).double().numpy(), kept.numpy()
