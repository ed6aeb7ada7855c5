"""Sparse autoencoders on the activation store: train, evaluate, explore features, steer.

``train`` drives dictionary_learning's TopK / BatchTopK trainers on frames
streamed from a store; ``load`` reads an artifact back (refusing another
model's).
"""

from .artifact import SAE, load
from .config import TrainConfig
from .errors import SAEArtifactError, SAEConfigError, SAETrainingError
from .training import train

__all__ = ["SAE", "load", "train", "TrainConfig", "SAEConfigError", "SAEArtifactError", "SAETrainingError"]
