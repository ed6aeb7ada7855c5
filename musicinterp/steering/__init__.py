"""Steering methods behind one protocol: fit from a store, apply during generation, combine freely."""

from .artifact import SteererFileError
from .base import Prepared, Steerer, SteerRun, clamp_with_warning
from .calibration import MonitorCalibration, calibrate_monitor
from .configs import SteererConfig, SteererConfigError, config_from_overrides, deprecated_alias
from .control import control_of, controls, has_control, random_control
from .diffmeans import DiffMeansConfig, DiffMeansSteerer
from .iti import ITIConfig, ITISteerer
from .monitor import Monitor, MonitorTrace, ProbeMonitor
from .regression import RegressionConfig, RegressionSteerer
from .run import SteeredResult, steer
from .sae import SAEFeatureMonitor, SAESteerer, SAESteererConfig
from .smitin import SMITINConfig, SMITINSteerer, derive_tau, soft_head_weights
from .spec import ApplySpec, Constant, Decay, Ramp, Schedule, SpecError, StrengthLog
from .strength_finder import StrengthCalibration, calibration_task, search_strength

METHODS = {"iti": (ITISteerer, ITIConfig), "smitin": (SMITINSteerer, SMITINConfig),
           "diffmeans": (DiffMeansSteerer, DiffMeansConfig), "regression": (RegressionSteerer, RegressionConfig),
           "sae": (SAESteerer, SAESteererConfig)}

__all__ = ["random_control", "controls", "has_control", "control_of", "Steerer", "SteerRun", "Prepared", "clamp_with_warning", "ApplySpec", "SpecError", "Schedule", "Constant",
           "Decay", "StrengthLog", "Monitor", "MonitorTrace", "ProbeMonitor", "ITISteerer", "ITIConfig",
           "SMITINSteerer", "SMITINConfig", "derive_tau", "soft_head_weights", "DiffMeansSteerer",
           "DiffMeansConfig", "RegressionSteerer", "RegressionConfig", "METHODS", "steer", "SteeredResult",
           "SteererFileError", "MonitorCalibration", "calibrate_monitor", "SAESteerer", "SAESteererConfig", "SAEFeatureMonitor", "SteererConfig", "SteererConfigError",
           "config_from_overrides", "Ramp", "StrengthCalibration", "calibration_task", "search_strength"]

# SAEConfig was renamed SAESteererConfig (the SAE's own training settings are musicinterp.sae.TrainConfig)
__getattr__ = deprecated_alias(__name__, {"SAEConfig": ("SAESteererConfig", SAESteererConfig)})
