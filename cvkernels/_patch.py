"""patch_torchvision(): route torchvision.ops and every reference to its ops that torchvision's
modules hold (the detection models' rpn, roi_heads, poolers, retinanet, fcos, ssd, keypoint and
mask heads import them by name) to cvkernels, undoably."""

from __future__ import annotations

import importlib
import pkgutil

# torchvision.ops name -> cvkernels attribute (same signature and values)
OPS = ("nms", "batched_nms", "box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou", "box_area",
       "box_convert", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss", "roi_align",
       "roi_pool", "RoIAlign", "RoIPool", "MultiScaleRoIAlign")


class _Patch:
    """The replacements made; undo() puts torchvision's objects back. A context manager."""

    def __init__(self, replaced):
        self.replaced = replaced  # [(module, name, torchvision's object)]

    def undo(self):
        for module, name, old in reversed(self.replaced):
            setattr(module, name, old)
        self.replaced = []
        _forget_scripted_modules()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.undo()
        return False

    def __repr__(self):
        return f"<cvkernels patch of torchvision: {len(self.replaced)} references>"


_MODULES = {}


def _modules(package):
    """package and its submodules, imported (walked once per process)."""
    if package.__name__ in _MODULES:
        return _MODULES[package.__name__]
    out = _MODULES[package.__name__] = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".tests" in info.name or info.name.endswith("_test"):
            continue
        try:
            out.append(importlib.import_module(info.name))
        except Exception:  # noqa: BLE001  (an optional dependency of some submodule)
            continue
    return out


def patch_torchvision():
    """Replace torchvision.ops' nms, batched_nms, the IoU family and losses, box_area,
    box_convert, roi_align, roi_pool, RoIAlign, RoIPool and MultiScaleRoIAlign with cvkernels'
    wherever torchvision's modules refer to them (so torchvision's detection and segmentation
    models run on cvkernels). Returns an object whose undo() restores torchvision; it is also a
    context manager::

        with cvkernels.patch_torchvision():
            detections = model(images)

    Models built before the patch use cvkernels too (their code looks the ops up by name); an
    instance of torchvision's RoIAlign / MultiScaleRoIAlign keeps its class but its forward
    calls the patched roi_align. torch.jit.script of a model under the patch compiles it with
    cvkernels' ops (an already scripted model keeps the ops it was compiled with). Ties among equal scores keep cvkernels' order (lower index
    first), so where scores tie the kept set, not its order, matches stock torchvision.
    """
    import torchvision
    import torchvision.models.detection

    import cvkernels

    if getattr(torchvision.ops, "_cvkernels_patched", False):
        raise RuntimeError("torchvision is already patched by cvkernels; undo() the first patch")
    ours = {name: getattr(cvkernels, name) for name in OPS}
    theirs = {}
    for name in OPS:
        obj = getattr(torchvision.ops, name, None)
        if obj is not None:
            theirs[id(obj)] = name
    replaced = []
    for package in (torchvision.ops, torchvision.models.detection):
        for module in _modules(package):
            for attr, value in list(vars(module).items()):
                name = theirs.get(id(value))
                if name is not None:
                    replaced.append((module, attr, value))
                    setattr(module, attr, ours[name])
    torchvision.ops._cvkernels_patched = True
    replaced.append((torchvision.ops, "_cvkernels_patched", False))
    _forget_scripted_modules()
    return _Patch(replaced)


def _forget_scripted_modules():
    """TorchScript reuses the methods it compiled for a module class: a model scripted before
    the patch would be scripted again with torchvision's ops. Forget them (torch's internal
    store; where it moved, script models after patching)."""
    try:
        import torch.jit._recursive as recursive

        recursive.concrete_type_store = recursive.ConcreteTypeStore()
    except Exception:  # noqa: BLE001
        pass


__all__ = ["patch_torchvision"]
