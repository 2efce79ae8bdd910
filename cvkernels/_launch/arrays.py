"""The two array adapters a launcher is given: NUMPY and TORCH. They are the only code that
hands arrays to the compiled modules: numpy arrays cross as themselves, torch tensors (any
device) as DLPack capsules; C++ checks dtype, shape, contiguity and device of each
(csrc/bindings/buffer.h). torch is imported only by TORCH's first use."""

from __future__ import annotations

import numpy as np

from .. import _C, _threads


class NumpyArrays:
    """numpy arrays on the CPU, kernels in cvkernels._C."""

    float32 = np.dtype(np.float32)
    float64 = np.dtype(np.float64)
    int64 = np.dtype(np.int64)
    int32 = np.dtype(np.int32)
    uint8 = np.dtype(np.uint8)
    bool = np.dtype(np.bool_)

    @staticmethod
    def compute_dtype(name: str, dtype):
        """float32/float64 as given, float16 in float32, integers and bools in float64."""
        if dtype == np.float32 or dtype == np.float64:
            return dtype
        if dtype == np.float16:
            return NumpyArrays.float32
        if dtype.kind in "iub":
            return NumpyArrays.float64
        raise TypeError(f"{name} must be a float or integer array, got dtype {dtype}")

    @staticmethod
    def promote(a, b):
        return np.promote_types(a, b)

    @staticmethod
    def is_float(dtype) -> bool:
        return dtype.kind == "f"

    @staticmethod
    def is_integer(dtype) -> bool:
        return dtype.kind in "iub"

    @staticmethod
    def contiguous(x, dtype):
        y = np.ascontiguousarray(x, dtype=dtype)
        return y if y.flags.aligned else y.copy()  # e.g. np.frombuffer(..., offset=1): copied aligned

    @staticmethod
    def empty(shape, dtype, like=None, fill=np.empty):
        try:
            return fill(shape, dtype=dtype)
        except (MemoryError, ValueError) as e:
            raise _too_big(shape, e) from None

    @staticmethod
    def zeros(shape, dtype, like=None):
        return NumpyArrays.empty(shape, dtype, fill=np.zeros)

    @staticmethod
    def full(shape, value, dtype, like=None):
        return np.full(shape, value, dtype=dtype)

    @staticmethod
    def flatnonzero(mask):
        """int64 positions of the true entries."""
        return np.flatnonzero(mask).astype(np.int64, copy=False)

    @staticmethod
    def broadcast_to(x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def same_device(**arrays):
        return None

    @staticmethod
    def numel(x) -> int:
        return x.size

    @staticmethod
    def is_cuda(x) -> bool:
        return False

    @staticmethod
    def prefix(x, k: int):
        """A copy of x[:k] (a variable-length result out of a full-size buffer)."""
        return x[:k].copy()

    @staticmethod
    def as_bytes(x):
        """A contiguous bool or uint8 array seen as uint8 (no copy when already contiguous)."""
        return np.ascontiguousarray(x).view(np.uint8)

    @staticmethod
    def detach(x):
        return x

    @staticmethod
    def is_channels_last(x) -> bool:
        """A 4-d array whose memory is (N, H, W, C) (and not also C-contiguous)."""
        return x.ndim == 4 and not x.flags.c_contiguous and x.transpose(0, 2, 3, 1).flags.c_contiguous

    @staticmethod
    def to_nhwc(x):
        return x.transpose(0, 2, 3, 1)

    @staticmethod
    def view(x):
        return x

    @staticmethod
    def kernels(like=None):
        _threads.sync()
        return _C

    @staticmethod
    def stream(like=None) -> int:
        return 0


class TorchArrays:
    """torch tensors on any device the build supports, kernels in _C or _C_cuda."""

    def __init__(self):
        import torch
        from torch.utils.dlpack import to_dlpack

        self.torch = torch
        self.view = to_dlpack
        self.float32, self.float64 = torch.float32, torch.float64
        self.int64, self.int32, self.uint8, self.bool = torch.int64, torch.int32, torch.uint8, torch.bool
        self._halves = (torch.float16, torch.bfloat16)
        self._cuda = None

    def compute_dtype(self, name: str, dtype):
        """float32/float64 as is; float16/bfloat16 in float32; integers and bool in float64."""
        if dtype == self.float32 or dtype == self.float64:
            return dtype
        if dtype in self._halves:
            return self.float32
        if dtype.is_complex or dtype.is_floating_point:
            raise TypeError(f"{name} must be a real float or integer tensor, got {dtype}")
        return self.float64

    def promote(self, a, b):
        return self.torch.promote_types(a, b)

    @staticmethod
    def is_float(dtype) -> bool:
        return dtype.is_floating_point

    @staticmethod
    def is_integer(dtype) -> bool:
        return not (dtype.is_floating_point or dtype.is_complex)

    @staticmethod
    def contiguous(x, dtype):
        if x.dtype == dtype and x.is_contiguous():  # the usual case, without a dispatch
            return x
        return x.to(dtype).contiguous()

    @staticmethod
    def broadcast_to(x, shape):
        return x.expand(shape)

    @staticmethod
    def flatnonzero(mask):
        return mask.reshape(-1).nonzero().reshape(-1)

    @staticmethod
    def numel(x) -> int:
        return x.numel()

    @staticmethod
    def is_cuda(x) -> bool:
        return x.is_cuda

    @staticmethod
    def prefix(x, k: int):
        return x[:k].clone()

    def as_bytes(self, x):
        return x.contiguous().view(self.torch.uint8)

    @staticmethod
    def detach(x):
        return x.detach()

    def is_channels_last(self, x) -> bool:
        return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=self.torch.channels_last)

    @staticmethod
    def to_nhwc(x):
        return x.permute(0, 2, 3, 1)

    def empty(self, shape, dtype, like):
        try:
            return self.torch.empty(shape, dtype=dtype, device=like.device)
        except RuntimeError as e:
            if isinstance(e, self.torch.OutOfMemoryError):  # a GPU that is full: the caller's to handle
                raise
            raise _too_big(shape, e) from None

    def zeros(self, shape, dtype, like):
        out = self.empty(shape, dtype, like)
        out.zero_()
        return out

    def full(self, shape, value, dtype, like):
        return self.torch.full(shape, value, dtype=dtype, device=like.device)

    def kernels(self, like):
        """cvkernels._C for CPU tensors, cvkernels._C_cuda for CUDA tensors."""
        if like.is_cpu:
            _threads.sync()
            return _C
        if like.is_cuda:
            if self._cuda is None:
                try:
                    from .. import _C_cuda
                except ImportError as e:
                    raise RuntimeError("cvkernels was built without CUDA kernels (rebuild with CVK_CUDA=ON)") from e
                self._cuda = _C_cuda
            return self._cuda
        raise ValueError(f"cvkernels has no kernels for device {like.device}")

    def stream(self, like) -> int:
        """The caller's current CUDA stream on like's device (0 on the CPU)."""
        if like.is_cuda:
            return self.torch.cuda.current_stream(like.device).cuda_stream
        return 0

    @staticmethod
    def same_device(**tensors):
        """ValueError unless every tensor given (None: skipped) is on the device of the first."""
        first = dev = None
        for name, t in tensors.items():
            if t is None:
                continue
            if dev is None:
                first, dev = name, t.device
            elif t.device != dev:
                raise ValueError(f"{first} and {name} must be on the same device, got {dev} and {t.device}")
        return dev


def _too_big(shape, error) -> ValueError:
    """The error for an output the arguments make too large to allocate (a huge max_total or
    output_size): a ValueError naming the shape, not the allocator's message alone."""
    return ValueError(f"the arguments ask for an output of shape {tuple(shape)}, which cannot be allocated "
                      f"({str(error).splitlines()[0] if str(error) else type(error).__name__})")


NUMPY = NumpyArrays()
_torch_arrays = None


def torch_arrays() -> TorchArrays:
    """The TORCH adapter (imports torch on first use)."""
    global _torch_arrays
    if _torch_arrays is None:
        _torch_arrays = TorchArrays()
    return _torch_arrays

