"""
Certified models with the scikit-learn API
==========================================

The estimators of :mod:`deepdual.estimators` wrap the closed forms in scikit-learn's interface, so
they work with ``Pipeline``, ``clone`` and ``GridSearchCV``; each fit is a global optimum, and the
certificate is kept in ``solution_``.

Here :class:`~deepdual.SplineReLURegressor` (the exact two-layer ReLU network with biases on one
feature, Theorem 4.2) has its :math:`\\beta` chosen by cross-validation: small :math:`\\beta`
interpolates the noise, large :math:`\\beta` flattens the function.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold

import deepdual as dd

rng = np.random.default_rng(0)
x = np.sort(rng.uniform(-1.0, 1.0, 60))
y = np.sin(4 * x) + 0.25 * rng.standard_normal(x.size)
X = x[:, None]

search = GridSearchCV(dd.SplineReLURegressor(), {"beta": np.geomspace(1e-4, 10.0, 11)},
                      cv=KFold(5, shuffle=True, random_state=0), scoring="neg_mean_squared_error")
search.fit(X, y)
best = search.best_estimator_
print(f"best β = {best.beta:.3g}: {best.solution_.theorem}, certified gap of its fit {best.solution_.gap:.1e}")

# %%
# The cross-validated error against :math:`\beta`, and the fits at three values.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
betas = search.cv_results_["param_beta"].data.astype(float)
axes[0].semilogx(betas, -search.cv_results_["mean_test_score"], "o-")
axes[0].axvline(best.beta, color="k", ls="--", lw=1)
axes[0].set_xlabel("β")
axes[0].set_ylabel("5-fold CV mean squared error")
grid = np.linspace(-1, 1, 801)[:, None]
axes[1].plot(x, y, "k.", label="data")
for i, beta in enumerate([1e-4, best.beta, 10.0]):
    model = dd.SplineReLURegressor(beta=beta).fit(X, y)
    axes[1].plot(grid, model.predict(grid), color=f"C{i}", label=f"β = {beta:.3g}")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %%
# :class:`~deepdual.DeepReLUClassifier` (Theorem 4.3) whitens its training rows, so it needs at most
# as many training samples as features: 50 of scikit-learn's 8×8 digits (64 pixels) here.
digits = dd.load_digits_data()
order = np.random.default_rng(0).permutation(digits.n_samples)
train, test = order[:50], order[50:]
clf = dd.DeepReLUClassifier(depth=3, beta=1e-3).fit(digits.X[train], digits.labels[train])
print(f"DeepReLUClassifier: {clf.solution_.theorem}, gap {clf.solution_.gap:.1e}, "
      f"test accuracy {clf.score(digits.X[test], digits.labels[test]):.3f} on {test.size} digits")
plt.show()
