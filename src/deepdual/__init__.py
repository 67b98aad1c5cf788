"""deepdual: globally optimal deep networks from convex duality (Ergen & Pilanci, ICML 2021)."""

from .networks import MLP, ParallelNet, PaperBatchNorm, objective, penalty
from .scalar import amplitude_threshold, optimal_amplitude, ridge_path_solution

__all__ = [
    "MLP",
    "ParallelNet",
    "PaperBatchNorm",
    "objective",
    "penalty",
    "optimal_amplitude",
    "amplitude_threshold",
    "ridge_path_solution",
]

__version__ = "0.1.0"

from .closed_form import batchnorm_closed_form, closed_form, last_hidden_class_means  # noqa: E402
from .duality import feasible_dual, linear_dual_objective, nuclear_norm_regression, project  # noqa: E402
from .solution import Certificate, NoCertificateError, Solution  # noqa: E402

__all__ += ["closed_form", "batchnorm_closed_form", "last_hidden_class_means", "feasible_dual", "linear_dual_objective", "nuclear_norm_regression", "project",
            "Certificate", "NoCertificateError", "Solution"]
from .certificates import certify  # noqa: E402

__all__ += ["certify"]
from .metrics import (  # noqa: E402
    KinksAtData,
    LayerNorm,
    LinearSpline,
    NeuralCollapse,
    NeuralCollapseAccumulator,
    alignment,
    kinks,
    kinks_at_data,
    layer_norms,
    layer_ranks,
    linear_spline,
    neural_collapse,
    numerical_rank,
    simplex_etf,
    sup_distance_to_spline,
    two_layer_breakpoints,
)

__all__ += ["KinksAtData", "LayerNorm", "LinearSpline", "NeuralCollapse", "NeuralCollapseAccumulator",
            "alignment", "kinks", "kinks_at_data", "layer_norms", "layer_ranks", "linear_spline",
            "neural_collapse", "numerical_rank", "simplex_etf", "sup_distance_to_spline",
            "two_layer_breakpoints"]
from .data import (  # noqa: E402
    Dataset,
    OneHot,
    RankOneDataset,
    Split,
    load_cifar10,
    load_digits_data,
    load_mnist_data,
    one_dimensional_data,
    one_hot,
    rank_one_data,
    teacher_data,
    undersample_whitened,
)
from .whitening import Whitener, is_whitened, whiten_rows  # noqa: E402

__all__ += ["Dataset", "OneHot", "RankOneDataset", "Split", "load_cifar10", "load_digits_data",
            "load_mnist_data", "one_dimensional_data", "one_hot", "rank_one_data", "teacher_data",
            "undersample_whitened", "Whitener", "is_whitened", "whiten_rows"]
from .training import History, TrainingDivergedError, train  # noqa: E402

__all__ += ["History", "TrainingDivergedError", "train"]
from .estimators import DeepLinearRegressor, DeepReLUClassifier, SplineReLURegressor  # noqa: E402
from .export import (  # noqa: E402
    load_metadata,
    load_network,
    load_solution,
    load_whitener,
    save_network,
    save_solution,
    to_sequential,
)

__all__ += ["DeepReLUClassifier", "DeepLinearRegressor", "SplineReLURegressor", "save_network", "load_network",
            "save_solution", "load_solution", "load_metadata", "load_whitener", "to_sequential"]
