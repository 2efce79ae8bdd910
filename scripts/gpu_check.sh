#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU (run from the repository root): builds cvkernels
# with its CUDA module into a fresh venv, runs the whole test suite (the CUDA tests, which skip
# elsewhere, run against the CPU kernels and the references) and fails if any CUDA test was
# skipped. Prepared without a GPU: it has not run on one yet.
set -euo pipefail
root=$(pwd)
python3 -m venv "$root/.venv-gpu"
. "$root/.venv-gpu/bin/activate"
python -m pip install -q --upgrade pip
pip install -q -r requirements-test.txt
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device visible to torch'"
CVK_CUDA=ON pip install -q --no-deps .
python -c "import cvkernels._C_cuda"  # the module was built and loads
cd / && pytest -q -p no:cacheprovider -rs "$root/tests" | tee "$root/.venv-gpu/pytest.log"
if grep -q "needs a CUDA GPU" "$root/.venv-gpu/pytest.log"; then
  echo "some CUDA tests were skipped"; exit 1
fi
