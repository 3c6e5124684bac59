"""The numpy executor behind ``cnncalc verify``: a real forward and backward
pass that checks the analysis against execution.

Imported only by ``cnncalc verify`` (and tests and benchmarks): the analysis
path never imports numpy.

Layout
------
* :mod:`.kernel` — the :class:`~.kernel.Kernel` base class (parameters,
  saved arrays, counted multiplications) and the registry of kernels keyed by
  layer type name;
* :mod:`.kernels` — one module per layer family, each kernel's ``forward``
  written directly above its ``backward``;
* :mod:`.window` — sliding-window views, im2col/col2im shared by convolution
  and pooling; :mod:`.reference` — a slow loop convolution kept as the
  obviously-correct reference for tests;
* :mod:`.network` — runs a whole graph forward and backward;
* :mod:`.verify` — the per-layer checks and the float64 gradient check.

Adding a kernel for a new layer type
------------------------------------
Write a subclass of :class:`Kernel` in a module of your family under
``cnncalc/executor/kernels/`` and import that module in
``cnncalc/executor/kernels/__init__.py``::

    from ..kernel import Kernel, register_kernel

    @register_kernel("my_layer")            # the layer's type_name
    class MyLayerKernel(Kernel):
        counts_multiplications = True      # verify compares with layer.macs()

        def setup(self):                    # create parameters from the shapes
            c_in = self.in_shapes[0][0]
            self.weight = self.param("weight", (c_in,), fan_in=1)

        def forward(self, x):              # x: (N, *in_shapes[0])
            self.save(x=x)                 # only what backward needs
            return self.multiply(x, self.weight[:, None, None])

        def backward(self, dy):            # dy: (N, *out_shape)
            x = self.saved["x"]
            self.grads["weight"] = (dy * x).sum(axis=(0, 2, 3))
            return (dy * self.weight[:, None, None],)   # one gradient per input

Rules a kernel follows (``cnncalc verify`` checks them):

* parameters and buffers are created with :meth:`Kernel.param` /
  :meth:`Kernel.buffer`; their sizes must equal ``layer.params(xs)``;
* every multiplication of the layer's arithmetic goes through
  :meth:`Kernel.matmul`, :meth:`Kernel.einsum` or :meth:`Kernel.multiply`,
  which count the products from their operands (forward count per sample must
  equal ``layer.macs(xs, y)`` when ``counts_multiplications`` is set);
  products on padded zeros are reported with :meth:`Kernel.count_zero_products`;
* :meth:`Kernel.save` keeps exactly what ``layer.saved_for_backward(xs, y)``
  declares (its inputs and output by reference, not copies): verify compares
  the bytes held with the training-memory estimate;
* ``backward`` returns one gradient per input and fills ``self.grads`` with
  one array per parameter, of the parameter's shape (a view, e.g. a
  transpose, will do); it may return ``None`` for an input whose
  ``self.needs_input_grad`` entry is false (the network's own input in a
  training step: conv and dense then skip that product).
"""

from .kernel import KERNELS, Kernel, kernel_for, register_kernel

__all__ = ["KERNELS", "Kernel", "kernel_for", "register_kernel"]
