"""Order of the gallery: from the closed forms to certificates, the convex program and the tools around them.

Examples not listed come last, by file name.
"""

from __future__ import annotations

ORDER = [
    "plot_amplitude_threshold.py",
    "plot_rank_vs_beta.py",
    "plot_deep_linear_norms.py",
    "plot_spline_interpolation.py",
    "plot_whitened_mnist.py",
    "plot_neural_collapse.py",
    "plot_certify_sgd.py",
    "plot_convex_relu_2d.py",
    "plot_estimators.py",
    "plot_reproduce_fig3b.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename: str):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self) -> str:  # sphinx-gallery compares configurations by repr
        return f"<{self.__class__.__name__}: {', '.join(ORDER)}>"
