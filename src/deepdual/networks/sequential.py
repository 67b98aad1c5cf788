"""Networks as people write them in PyTorch: a ``torch.nn.Sequential`` of ``Linear`` layers with ``ReLU``
between them, read as the equivalent :class:`~deepdual.networks.MLP`."""

from __future__ import annotations

import torch
from torch import nn

from .mlp import MLP

__all__ = ["from_sequential", "as_network"]

_ACTIVATIONS = {nn.ReLU: "relu", nn.Identity: None}


def _flatten(module: nn.Module, name: str) -> list[tuple[str, nn.Module]]:
    """The leaf layers of (possibly nested) ``Sequential`` containers, with their dotted names."""
    out: list[tuple[str, nn.Module]] = []
    for child_name, child in module.named_children():
        path = f"{name}[{child_name}]"
        if isinstance(child, nn.Sequential):
            out.extend(_flatten(child, path))
        else:
            out.append((path, child))
    return out


def from_sequential(module: nn.Sequential, name: str = "network") -> MLP:
    """The :class:`MLP` computing the same function as a plain PyTorch ``Sequential``.

    Accepted layers: ``nn.Linear`` (with or without bias), ``nn.ReLU`` between them (every hidden layer, or
    none for a deep linear network), ``nn.Identity`` anywhere, and nested ``nn.Sequential`` containers. The
    weights are copied (transposed to deepdual's ``(fan_in, fan_out)`` convention) in the module's own
    dtype and device, so ``objective(from_sequential(seq), X, Y, beta=β)`` is P(θ) of paper eq. (2) for the
    weights ``seq`` holds: ``½‖f(X) − Y‖²_F + β/2 Σ‖W_l‖²_F`` with biases unregularized (as everywhere in
    deepdual; weight decay on the biases in a training loop is not part of this objective). Layers that
    receive no bias in ``seq`` get a zero bias when others have one, which changes neither the function nor
    the penalty.

    Parameters
    ----------
    module : torch.nn.Sequential
    name : str
        The argument name used in error messages.

    Returns
    -------
    MLP
        In the training mode of ``module`` (a copy: later changes to ``module`` are not reflected).

    Raises
    ------
    TypeError
        For any other layer (the message names it and its position), for an activation on the output, for
        ReLU after some hidden layers but not others, and for consecutive ``Linear`` layers of mismatched
        sizes.
    """
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"`{name}` must be a torch.nn.Sequential, got {type(module).__name__}.")
    linears: list[nn.Linear] = []
    relu_after: list[bool] = []
    for path, layer in _flatten(module, name):
        if isinstance(layer, nn.Linear):
            if linears and layer.in_features != linears[-1].out_features:
                raise TypeError(f"`{path}` is Linear({layer.in_features}, {layer.out_features}) after a layer with "
                                f"{linears[-1].out_features} outputs; the Sequential is not a chain.")
            linears.append(layer)
            relu_after.append(False)
        elif type(layer) in _ACTIVATIONS:
            if _ACTIVATIONS[type(layer)] == "relu":
                if not linears or relu_after[-1]:
                    raise TypeError(f"`{path}` is a ReLU that does not follow a Linear layer; deepdual reads "
                                    "Linear → ReLU → … → Linear chains.")
                relu_after[-1] = True
        else:
            raise TypeError(
                f"`{path}` is {type(layer).__name__}, which deepdual cannot certify; supported layers are Linear, "
                "ReLU (between Linear layers), Identity and nested Sequential."
            )
    if len(linears) < 2:
        raise TypeError(f"`{name}` has {len(linears)} Linear layer(s); deepdual's networks have depth >= 2 "
                        "(Linear → ReLU → Linear).")
    if relu_after[-1]:
        raise TypeError(f"`{name}` ends with a ReLU after its last Linear layer; deepdual's networks have a linear "
                        "output layer (remove the final ReLU).")
    hidden = relu_after[:-1]
    if any(hidden) and not all(hidden):
        missing = [i for i, r in enumerate(hidden) if not r]
        raise TypeError(f"`{name}` has ReLU after some hidden Linear layers but not after layer(s) {missing}; "
                        "deepdual reads networks with the same activation on every hidden layer.")
    ref = linears[0].weight
    bias = any(lin.bias is not None for lin in linears)
    widths = [linears[0].in_features] + [lin.out_features for lin in linears]
    mlp = MLP(widths, activation="relu" if all(hidden) else "linear", bias=bias, dtype=ref.dtype,
              device=ref.device, init_scale=0.0, seed=0)
    with torch.no_grad():
        for i, lin in enumerate(linears):
            mlp.weights[i].copy_(lin.weight.detach().T)
            if bias:
                mlp.biases[i].copy_(lin.bias.detach() if lin.bias is not None else torch.zeros_like(mlp.biases[i]))
    mlp.train(module.training)
    return mlp


def as_network(network, name: str = "network"):
    """``network`` itself when it is a deepdual network; the equivalent :class:`MLP` for a PyTorch
    ``Sequential`` (see :func:`from_sequential`); anything else is returned unchanged for the caller's
    validation to reject."""
    if isinstance(network, nn.Sequential):
        return from_sequential(network, name)
    return network
