"""Type-checked use of the public API (``mypy tests/typing/public_api.py`` in CI; not a pytest module).

The names are imported from the modules that define them, so mypy sees their annotations (the lazy
``deepdual.__getattr__`` would make everything ``Any``).
"""

from __future__ import annotations

import numpy as np
import torch

from deepdual.certificates import certify
from deepdual.duality import NuclearResult, nuclear_norm_regression, project
from deepdual.networks import MLP, ParallelNet, objective, penalty
from deepdual.scalar import RidgePathResult, amplitude_threshold, optimal_amplitude, ridge_path_solution
from deepdual.solution import Certificate, Solution
from deepdual.theorems import closed_form
from deepdual.theorems.spline import SplineLassoResult, spline_lasso
from deepdual.whitening import Whitener

X = np.random.default_rng(0).standard_normal((8, 4))
Y = np.random.default_rng(1).standard_normal((8, 2))

sol: Solution = closed_form(X, Y, beta=0.5, depth=2)
P: float = sol.objective
gap: float | None = sol.gap
rel: float | None = sol.relative_gap
summary: dict = sol.to_dict()
net: ParallelNet = ParallelNet(4, 2, depth=3, branches=2, seed=0)
mlp: MLP = MLP([4, 5, 2])
value: float = objective(net, X, Y, beta=0.5) + penalty(mlp)
cert: Certificate = certify(sol.network, X, Y, beta=0.5)
lower: float = cert.lower_bound
res: RidgePathResult = ridge_path_solution(X, Y[:, 0], beta=0.5, depth=3)
nuc: NuclearResult = nuclear_norm_regression(X, Y, beta=0.5)
spl: SplineLassoResult = spline_lasso(X[:, 0], Y[:, 0], beta=0.1)
lam: np.ndarray = project(X, Y, beta=0.5)
tau: float = amplitude_threshold(beta=0.5, depth=3)
amp = optimal_amplitude(2.0, beta=0.5, depth=3)
Xw: np.ndarray = Whitener().fit_transform(X.T)
out: torch.Tensor = net(torch.as_tensor(X))
