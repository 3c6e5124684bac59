"""Dense (fully connected) layers and flattening."""

from __future__ import annotations

from ..kernel import Kernel, register_kernel


@register_kernel("dense")
class DenseKernel(Kernel):
    """weight (out, in), bias (out,); x (N, in) → y = x @ Wᵀ + b (N, out)."""

    counts_multiplications = True
    output_is_private = True

    def setup(self):
        n_in, n_out = self.in_shapes[0][0], self.layer.out_features
        self.weight = self.param("weight", (n_out, n_in), fan_in=n_in)
        self.bias = self.param("bias", (n_out,)) if self.layer.bias else None

    def forward(self, x):
        self.save(x=x)
        y = self.matmul(x, self.weight.T)
        if self.bias is not None:
            y += self.bias
        return y

    def backward(self, dy):
        x = self.saved["x"]
        # written over the previous pass's gradient: no fresh pages for a 100M-entry weight
        self.grads["weight"] = self.matmul(dy.T, x, out=self.grad_buffer("weight", self.weight.shape))
        if self.bias is not None:
            self.grads["bias"] = dy.sum(axis=0)
        return (self.matmul(dy, self.weight) if self.needs_input_grad[0] else None,)


@register_kernel("flatten")
class FlattenKernel(Kernel):
    """x (N, C, *s) → a view (N, C·∏s); keeps nothing."""

    def forward(self, x):
        self.in_full_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return (dy.reshape(self.in_full_shape),)
