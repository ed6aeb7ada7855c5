"""Batched probe banks (logistic and linear regression) over the heads or layers of a site."""

from .bank import ProbeBank, ProbeConfig
from .fit import fit_probe_bank, split_indices
from .linear import fit_linear
from .logistic import LogisticFit, fit_logistic, solve_logistic
from .metrics import batched_auc

__all__ = ["ProbeBank", "ProbeConfig", "fit_probe_bank", "split_indices", "fit_linear", "fit_logistic",
           "solve_logistic", "LogisticFit", "batched_auc"]
