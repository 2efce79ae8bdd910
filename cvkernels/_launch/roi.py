"""Launchers of RoIAlign and RoIPool (csrc/roi/), forward and backward. A channels-last
feature map is handed over as its (N, H, W, C) memory, used in place."""

from __future__ import annotations

from .checks import int_pair, integer, last_dim, number


def output_size(value):
    """(PH, PW) from an int or a pair of ints >= 0."""
    return int_pair("output_size", value, 0)


def spatial_scale(value) -> float:
    return number("spatial_scale", value)


MAX_SAMPLING_RATIO = 1 << 16  # samples per bin side; beyond, the sample count overflows


def sampling_ratio(value) -> int:
    value = integer("sampling_ratio", value)
    if value > MAX_SAMPLING_RATIO:
        raise ValueError(f"sampling_ratio must be <= {MAX_SAMPLING_RATIO}, got {value}")
    return value


def spec(input_shape, rois_shape, ph: int, pw: int):
    """(N, C, H, W, K) after checking input (N, C, H, W) and rois (K, 5); the output is (K, C, PH, PW)."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 4:
        raise ValueError(f"input must have shape (N, C, H, W), got {input_shape}")
    last_dim("rois", rois_shape, (2,), last=5)
    if ph < 0 or pw < 0:
        raise ValueError(f"output size must be >= 0, got ({ph}, {pw})")
    return (*input_shape, rois_shape[0])


def batch_index_error(n: int) -> str:
    return f"boxes: every batch index (rois[:, 0]) must be an integer in [0, {n}) (the batch size of input)"


def _check(xp, input, rois, ph, pw):
    spec(input.shape, rois.shape, ph, pw)
    xp.same_device(input=input, rois=rois)
    if not xp.is_float(input.dtype):
        raise TypeError(f"input must be a float array, got dtype {input.dtype}")
    if not (xp.is_float(rois.dtype) or xp.is_integer(rois.dtype)):
        raise TypeError(f"rois must be a real array, got dtype {rois.dtype}")
    return xp.compute_dtype("input", input.dtype)


def _check_batch_index(rois, n):
    if rois.shape[0]:
        idx = rois[:, 0]
        if not bool(((idx >= 0) & (idx < n)).all()):  # NaN fails both comparisons
            raise ValueError(batch_index_error(n))


def _feature_map(xp, input, ct):
    """(buffer, channels_last): the map as contiguous NCHW, or its NHWC memory when it is channels-last."""
    if xp.is_channels_last(input):
        return xp.contiguous(xp.to_nhwc(input), ct), True
    return xp.contiguous(input, ct), False


def _forward(xp, op, input, rois, ph, pw, *args):
    ct = _check(xp, input, rois, ph, pw)
    x, nhwc = _feature_map(xp, input, ct)
    r = xp.contiguous(rois, ct)
    K, C, H, W = rois.shape[0], input.shape[1], input.shape[2], input.shape[3]
    out = xp.empty((K, C, ph, pw), ct, x)
    argmax = xp.empty((K, C, ph, pw), xp.int32, x) if op == "roi_pool_forward" else None
    if xp.is_cuda(x) or (xp.numel(out) and H * W == 0):  # (on the CPU, C++ checks it)
        _check_batch_index(rois, input.shape[0])
    if xp.numel(out) and H * W == 0:  # an empty map: every sample lies outside it
        out[...] = 0
        if argmax is not None:
            argmax[...] = -1
        return out, argmax
    k = xp.kernels(x)
    if argmax is None:
        k.roi_align_forward(xp.view(x), nhwc, xp.view(r), xp.view(out), *args, xp.stream(x))
    else:
        k.roi_pool_forward(xp.view(x), nhwc, xp.view(r), xp.view(out), xp.view(argmax), *args, xp.stream(x))
    return out, argmax


def align(xp, input, rois, ph: int, pw: int, scale: float, sampling_ratio: int, aligned: bool):
    """(K, C, PH, PW) RoIAlign features in the compute dtype."""
    return _forward(xp, "roi_align_forward", input, rois, ph, pw, scale, sampling_ratio, bool(aligned))[0]


def align_levels(xp, features, rois, levels, scales, ph: int, pw: int, sampling_ratio: int, aligned: bool):
    """Multi-scale RoIAlign: (K, C, PH, PW), RoI k pooled from features[levels[k]] at
    scales[levels[k]]. One output, allocated once and filled level by level in place (each
    level's RoIs write their own rows), with no scatter or zero fill."""
    if len(features) == 0 or len(features) != len(scales):
        raise ValueError(f"need one scale per feature level, got {len(features)} levels and {len(scales)} scales")
    first = features[0]
    cts = {_check(xp, f, rois, ph, pw) for f in features}
    if len(cts) != 1 or any(f.shape[1] != first.shape[1] for f in features):
        raise ValueError("every feature level must have the same dtype and channels")
    ct = cts.pop()
    if tuple(levels.shape) != (rois.shape[0],):
        raise ValueError(f"levels must have shape ({rois.shape[0]},), got {tuple(levels.shape)}")
    if xp.flatnonzero((levels < 0) | (levels >= len(features))).shape[0]:
        raise ValueError(f"levels must lie in [0, {len(features)})")  # else rows would stay unwritten
    K, C = rois.shape[0], first.shape[1]
    out = xp.empty((K, C, ph, pw), ct, first)
    r = xp.contiguous(rois, ct)
    for level, (feature, scale) in enumerate(zip(features, scales)):
        rows = xp.flatnonzero(levels == level)
        if rows.shape[0] == 0:
            continue
        x, nhwc = _feature_map(xp, feature, ct)
        r_level = xp.contiguous(r[rows], ct)
        if xp.is_cuda(x) or feature.shape[2] * feature.shape[3] == 0:
            _check_batch_index(r_level, feature.shape[0])
        if feature.shape[2] * feature.shape[3] == 0:
            out[rows] = 0
            continue
        xp.kernels(x).roi_align_forward(xp.view(x), nhwc, xp.view(r_level), xp.view(out), float(scale),
                                        sampling_ratio, bool(aligned), xp.stream(x), xp.view(rows))
    return out


def pool(xp, input, rois, ph: int, pw: int, scale: float):
    """(features, argmax): (K, C, PH, PW) RoIPool maxima in the compute dtype and the int32
    position of each in its feature plane (-1 for an empty bin)."""
    return _forward(xp, "roi_pool_forward", input, rois, ph, pw, scale)


def _grad_input(xp, shape, ct, like, channels_last, filled_by_kernel):
    N, C, H, W = shape
    alloc = xp.empty if filled_by_kernel else xp.zeros
    return alloc((N, H, W, C) if channels_last else (N, C, H, W), ct, like)


def align_backward(xp, grad, rois, input_shape, scale, sampling_ratio, aligned, channels_last, deterministic):
    """Gradient of the feature map: (N, C, H, W), or (N, H, W, C) memory when channels_last."""
    ct = xp.compute_dtype("grad", grad.dtype)
    g, r = xp.contiguous(grad, ct), xp.contiguous(rois, ct)
    run = xp.numel(g) > 0 and input_shape[2] * input_shape[3] > 0
    gi = _grad_input(xp, input_shape, ct, g, channels_last, run)
    if run:
        xp.kernels(g).roi_align_backward(xp.view(g), xp.view(r), xp.view(gi), channels_last, scale, sampling_ratio,
                                         aligned, deterministic, xp.stream(g))
    return gi


def pool_backward(xp, grad, rois, argmax, input_shape, channels_last, deterministic):
    ct = xp.compute_dtype("grad", grad.dtype)
    g, r = xp.contiguous(grad, ct), xp.contiguous(rois, ct)
    a = xp.contiguous(argmax, xp.int32)
    run = xp.numel(g) > 0 and input_shape[2] * input_shape[3] > 0
    gi = _grad_input(xp, input_shape, ct, g, channels_last, run)
    if run:
        xp.kernels(g).roi_pool_backward(xp.view(g), xp.view(a), xp.view(r), xp.view(gi), channels_last,
                                        deterministic, xp.stream(g))
    return gi
