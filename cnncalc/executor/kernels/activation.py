"""Element-wise activations, softmax and dropout.

Each activation is a (forward, derivative) pair; the derivative is written in
terms of what the layer keeps (its output for relu/sigmoid/tanh/softmax, its
input otherwise), matching ``layer.saved_for_backward``."""

from __future__ import annotations

import math

import numpy as np

from ..kernel import Kernel, register_kernel

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softplus(x):
    return np.where(x > 20, x, np.logaddexp(0, np.minimum(x, 20)))  # PyTorch's threshold 20


def _phi(x):
    """Standard normal CDF (exact, via math.erf)."""
    return 0.5 * (1.0 + _erf(x / math.sqrt(2)).astype(x.dtype))


#: name → (forward f(x), derivative as a function of (x or y)) ; by_output selects y
_ELEMENTWISE = {
    # relu's mask straight as floats: one pass, where a boolean mask then a cast takes two
    "relu": (lambda x, L: np.maximum(x, 0), lambda y, L: np.greater(y, 0, out=np.empty_like(y), casting="unsafe"),
             True),
    "relu6": (lambda x, L: np.clip(x, 0, 6), lambda x, L: (x > 0) & (x < 6), False),
    "leaky_relu": (lambda x, L: np.where(x > 0, x, L.negative_slope * x),
                   lambda x, L: np.where(x > 0, 1.0, L.negative_slope), False),
    "elu": (lambda x, L: np.where(x > 0, x, L.alpha * np.expm1(np.minimum(x, 0))),
            lambda x, L: np.where(x > 0, 1.0, L.alpha * np.exp(np.minimum(x, 0))), False),
    "sigmoid": (lambda x, L: _sigmoid(x), lambda y, L: y * (1 - y), True),
    "tanh": (lambda x, L: np.tanh(x), lambda y, L: 1 - y * y, True),
    "gelu": (lambda x, L: x * _phi(x),
             lambda x, L: _phi(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), False),
    "silu": (lambda x, L: x * _sigmoid(x),
             lambda x, L: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))), False),
    "hardswish": (lambda x, L: x * np.clip(x + 3, 0, 6) / 6,
                  lambda x, L: np.where(x < -3, 0.0, np.where(x <= 3, x / 3 + 0.5, 1.0)), False),
    "hardsigmoid": (lambda x, L: np.clip(x + 3, 0, 6) / 6,
                    lambda x, L: np.where((x > -3) & (x < 3), 1 / 6, 0.0), False),
    "softplus": (lambda x, L: _softplus(x), lambda x, L: np.where(x > 20, 1.0, _sigmoid(x)), False),
    "mish": (lambda x, L: x * np.tanh(_softplus(x)),
             lambda x, L: np.tanh(_softplus(x)) + x * _sigmoid(x) * (1 - np.tanh(_softplus(x)) ** 2), False),
}


class ElementwiseKernel(Kernel):
    """y = f(x) element by element; dx = dy · f′ (from x or from y).

    A ReLU may write its output over its input, and its input's gradient
    over dy, when the network says nobody else reads them
    (``overwrite_input``, ``overwrite_dy``: see Network.forward, backward)."""

    overwrite_dy = False

    def forward(self, x):
        f, _, by_output = _ELEMENTWISE[self.layer.type_name]
        if self.overwrite_input == 0 and self.layer.type_name == "relu":
            y = np.maximum(x, 0, out=x)
            self.save(y=y)
            return y
        y = np.asarray(f(x, self.layer), dtype=x.dtype)
        self.save(**({"y": y} if by_output else {"x": x}))
        return y

    def backward(self, dy):
        _, df, by_output = _ELEMENTWISE[self.layer.type_name]
        kept = self.saved["y" if by_output else "x"]
        if self.overwrite_dy and self.layer.type_name == "relu":  # one mixed product in place: ~1.3× faster
            return (np.multiply(dy, kept > 0, out=dy),)
        slope = df(kept, self.layer)
        if slope.dtype == bool:  # a mask: float × bool multiplies ~1.5× slower than float × float
            slope = slope.astype(dy.dtype)
        if slope.dtype == dy.dtype and slope.shape == dy.shape and not np.shares_memory(slope, kept):
            return (np.multiply(slope, dy, out=slope),)  # a fresh array of its own: the product goes into it
        return ((dy * slope).astype(dy.dtype, copy=False),)


for _name in _ELEMENTWISE:
    register_kernel(_name)(ElementwiseKernel)


@register_kernel("identity")
class IdentityKernel(Kernel):
    def forward(self, x):
        return x

    def backward(self, dy):
        return (dy,)


@register_kernel("softmax")
class SoftmaxKernel(Kernel):
    """Softmax along ``dim`` of one sample; keeps y; dx = y·(dy − Σ dy·y)."""

    def forward(self, x):
        axis = self.layer.dim + 1
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        self.save(y=y)
        return y

    def backward(self, dy):
        y = self.saved["y"]
        return (y * (dy - (dy * y).sum(axis=self.layer.dim + 1, keepdims=True)),)


@register_kernel("log_softmax")
class LogSoftmaxKernel(Kernel):
    """log softmax along ``dim``; keeps y; dx = dy − e^y · Σ dy."""

    def forward(self, x):
        axis = self.layer.dim + 1
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.save(y=y)
        return y

    def backward(self, dy):
        y = self.saved["y"]
        return (dy - np.exp(y) * dy.sum(axis=self.layer.dim + 1, keepdims=True),)


@register_kernel("dropout")
class DropoutKernel(Kernel):
    """Training mode: y = x·mask/(1 − p), mask ~ Bernoulli(1 − p); keeps the
    boolean mask. The mask comes from the kernel's own seed, so repeated
    forward passes (the gradient check) see the same mask."""

    def setup(self):
        self.seed = int(self.rng.integers(2**63))

    def forward(self, x):
        p = self.layer.p
        mask = np.random.default_rng(self.seed).random(x.shape) >= p
        self.save(mask=mask)
        return x * mask * x.dtype.type(1 / (1 - p))

    def backward(self, dy):
        return (dy * self.saved["mask"] * dy.dtype.type(1 / (1 - self.layer.p)),)


@register_kernel("stochastic_depth")
class StochasticDepthKernel(Kernel):
    """torchvision's StochasticDepth in training: y = x·keep/(1 − p) with
    keep ~ Bernoulli(1 − p) drawn per sample (mode row) or once for the batch
    (mode batch); p = 1 drops everything (no division). Row mode keeps the
    boolean per sample; batch mode one Python flag. The draw comes from the
    kernel's own seed, so repeated forward passes see the same keep flags."""

    def setup(self):
        self.seed = int(self.rng.integers(2**63))

    def keep(self, n: int) -> np.ndarray:
        """The keep flags of a batch of n samples: (n,) for row, (1,) for batch mode."""
        draws = 1 if self.layer.mode == "batch" else n
        return np.random.default_rng(self.seed).random(draws) >= self.layer.p

    def _scale(self, a, keep):
        survival = 1.0 - self.layer.p
        factor = keep.astype(a.dtype) * (a.dtype.type(1 / survival) if survival > 0 else a.dtype.type(1))
        return a * factor.reshape((-1,) + (1,) * (a.ndim - 1))

    def forward(self, x):
        keep = self.keep(x.shape[0])
        if self.layer.mode == "row":
            self.save(keep=keep)
        else:
            self.batch_keep = keep
        return self._scale(x, keep)

    def backward(self, dy):
        keep = self.saved["keep"] if self.layer.mode == "row" else self.batch_keep
        return (self._scale(dy, keep),)
