"""Regenerate cvkernels/_C.pyi (and _C_cuda.pyi when that module is built) from the installed
package with pybind11-stubgen, typing the array arguments as `Buffer`. Run from the repository
root after `pip install .` (and `pip install pybind11-stubgen`):

    python scripts/make_stubs.py [path/to/_C_cuda.so]

tests/test_package.py fails when a stub no longer lists the module's entries.
"""

import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUFFER = {
    "_C": "a numpy array, or a DLPack capsule of a torch tensor (torch.utils.dlpack.to_dlpack)",
    "_C_cuda": "a DLPack capsule of a CUDA tensor (torch.utils.dlpack.to_dlpack)",
}


def main():
    spec = importlib.util.find_spec("cvkernels")
    pkg = pathlib.Path(spec.origin).parent
    if pkg == ROOT / "cvkernels":
        sys.exit("run this where the installed package, not the source tree, is imported (e.g. from /tmp)")
    copied = None
    if len(sys.argv) > 1:  # a CUDA build outside the installed package
        copied = pkg / pathlib.Path(sys.argv[1]).name
        shutil.copy(sys.argv[1], copied)
    try:
        with tempfile.TemporaryDirectory() as out:
            for mod in ("_C", "_C_cuda"):
                if importlib.util.find_spec(f"cvkernels.{mod}") is None:
                    continue
                subprocess.run(["pybind11-stubgen", f"cvkernels.{mod}", "-o", out], check=True)
                text = (pathlib.Path(out) / "cvkernels" / f"{mod}.pyi").read_text()
                text = re.sub(r": typing\.Any(?=[,)])", ": Buffer", text)
                head, _, rest = text.partition("__all__")
                text = (head + f"# An array argument: {BUFFER[mod]}.\n# C++ checks its dtype, shape, contiguity and "
                        "device.\nBuffer: typing.TypeAlias = typing.Any\n__all__" + rest)
                (ROOT / "cvkernels" / f"{mod}.pyi").write_text(text)
                print(f"wrote cvkernels/{mod}.pyi")
    finally:
        if copied is not None:
            copied.unlink()


if __name__ == "__main__":
    main()
