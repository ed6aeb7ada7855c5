"""Steering methods behind one protocol: fit from a store, prepare for a generation, combine freely."""

from .base import Prepared, Steerer
from .diffmeans import DiffMeansConfig, DiffMeansSteerer
from .iti import ITIConfig, ITISteerer
from .regression import RegressionConfig, RegressionSteerer
from .run import SteeredResult, steer
from .smitin import SMITINConfig, SMITINSteerer, derive_tau
from .spec import ApplySpec, Constant, Decay, Schedule

METHODS = {"iti": (ITISteerer, ITIConfig), "smitin": (SMITINSteerer, SMITINConfig),
           "diffmeans": (DiffMeansSteerer, DiffMeansConfig), "regression": (RegressionSteerer, RegressionConfig)}

__all__ = ["Steerer", "Prepared", "ApplySpec", "Schedule", "Constant", "Decay", "ITISteerer", "ITIConfig",
           "SMITINSteerer", "SMITINConfig", "derive_tau", "DiffMeansSteerer", "DiffMeansConfig", "RegressionSteerer",
           "RegressionConfig", "METHODS", "steer", "SteeredResult"]
