"""Sparse autoencoders on the activation store: train, evaluate, explore features, steer.

``train`` drives dictionary_learning's TopK / BatchTopK trainers on frames
streamed from a store; ``load`` reads an artifact back (refusing another
model's); ``evaluate`` scores reconstruction and the spliced model (SAELens's
formulas); ``analyze`` ranks features by concept and maps them; ``stability``
compares a concept's feature set across seeds. Steer with
``mi.SAESteerer``.
"""

from .artifact import SAE, load
from .config import TrainConfig
from .errors import SAEArtifactError, SAEConfigError, SAETrainingError
from .evaluate import SAEEvaluation, evaluate, reconstruction_metrics, spliced_scores
from .features import FeatureAnalysis, analyze
from .stability import StabilityResult, stability
from .training import train

__all__ = ["SAE", "load", "train", "TrainConfig", "evaluate", "SAEEvaluation", "reconstruction_metrics",
           "spliced_scores", "analyze", "FeatureAnalysis", "stability", "StabilityResult", "SAEConfigError", "SAEArtifactError", "SAETrainingError"]
