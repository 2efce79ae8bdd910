"""Launchers: one per op, mirroring csrc/<area>/. A launcher owns the op's rules (argument
checks, dtype promotion, the output spec) and makes exactly one call into the compiled module,
given an array adapter (arrays.NUMPY or arrays.TORCH) that allocates, converts and hands the
buffers over as checked views. The public functions pick the adapter; the torch registration
(cvkernels._torch) calls the same launchers and builds its fake kernels from the same specs.

Nothing here imports a public module or cvkernels._torch.
"""
