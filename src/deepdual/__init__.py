"""deepdual: globally optimal deep networks from convex duality (Ergen & Pilanci, ICML 2021).

The public API is re-exported here. Names are imported lazily (PEP 562) on first use, so that
``import deepdual`` and the command line start without loading torch or scikit-learn.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "networks": ["MLP", "ParallelNet", "PaperBatchNorm", "objective", "penalty", "from_sequential"],
    "scalar": ["optimal_amplitude", "amplitude_threshold", "ridge_path_solution", "RidgePathResult"],
    "theorems": ["closed_form", "batchnorm_closed_form", "last_hidden_class_means"],
    "theorems.spline": ["spline_lasso", "SplineLassoResult"],
    "duality": ["feasible_dual", "linear_dual_objective", "nuclear_norm_regression", "project", "NuclearResult"],
    "solution": ["Certificate", "NoCertificateError", "NoClosedFormError", "Solution"],
    "certificates": ["certify", "certify_spline", "ReLUCertificate"],
    "metrics": ["KinksAtData", "LayerNorm", "LinearSpline", "NeuralCollapse", "NeuralCollapseAccumulator",
                "alignment", "kinks", "kinks_at_data", "layer_norms", "layer_ranks", "linear_spline",
                "neural_collapse", "numerical_rank", "simplex_etf", "sup_distance_to_spline",
                "two_layer_breakpoints"],
    "data": ["Dataset", "OneHot", "RankOneDataset", "Split", "load_cifar10", "load_digits_data",
             "load_mnist_data", "one_dimensional_data", "one_hot", "rank_one_data", "teacher_data",
             "undersample_whitened"],
    "whitening": ["Whitener", "is_whitened", "whiten_rows"],
    "training": ["History", "TrainingDivergedError", "train"],
    "estimators": ["DeepLinearRegressor", "DeepReLUClassifier", "SplineReLURegressor", "ConvexReLURegressor",
                   "ConvexReLUClassifier", "DependentRowsWarning"],
    "export": ["load_metadata", "load_network", "load_solution", "load_whitener", "save_network",
               "save_solution", "to_sequential"],
    "sweeps": ["run_sweep", "ResultsStore", "atomic_write_json"],
    "experiments.runner": ["reproduce"],
    "convex": ["convex_relu", "PatternSet", "enumerate_patterns", "sample_patterns", "arrangement_bound"],
}

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE) + ["__version__"]


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'deepdual' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
