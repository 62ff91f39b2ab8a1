#!/usr/bin/env bash
# Create .venv and install symptom-bot into it (EXTRAS=dev for the test tools).
#
# torch is installed first, as its CPU build: plain PyPI serves the CUDA build of torch on Linux,
# which pulls 19 more packages (15 nvidia-* wheels, cuda-*, triton: gigabytes) it never uses.
#   - When pip finds a CPU wheel of torch without asking any index (a local wheelhouse given by
#     find-links, as on the project's own machines), the default `pip install` takes it.
#   - Otherwise torch comes from PyTorch's CPU wheel index, as PyTorch documents it
#     (TORCH_INDEX_URL; https://download.pytorch.org/whl/cpu unless set).
# Afterwards the installed build is checked: a CUDA build is reported loudly (the bot still runs).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0  # the same pin as in pyproject.toml and the Dockerfile
TORCH_INDEX_URL=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }

installed_torch() {
  .venv/bin/python -c 'from importlib import metadata
try:
    print(metadata.version("torch"))
except metadata.PackageNotFoundError:
    pass'
}

# The torch wheel pip would take from local sources alone (find-links), without any index.
local_torch() {
  pip install --quiet --dry-run --no-deps --ignore-installed --no-index --report - \
    "torch==$TORCH_VERSION" 2>/dev/null | .venv/bin/python -c 'import json, sys
items = json.load(sys.stdin).get("install") or [{}]
print(items[0].get("metadata", {}).get("version", ""))' 2>/dev/null || true
}

current=$(installed_torch)
if [ "${current%%+*}" != "$TORCH_VERSION" ]; then
  found=$(local_torch)
  if [[ "$found" == *+cpu ]]; then
    echo "setup: installing torch $found (CPU build, found locally)"
    pip install --quiet "torch==$TORCH_VERSION"
  else
    echo "setup: installing torch $TORCH_VERSION (CPU build) from $TORCH_INDEX_URL"
    pip install --quiet "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL"
  fi
fi

# Say loudly when a CUDA build got in (e.g. an older .venv, or an index serving CUDA wheels).
build=$(.venv/bin/python -c 'import torch; print(torch.version.cuda or "cpu")' 2>/dev/null) || {
  echo "setup: torch $(installed_torch) is installed but cannot be imported" >&2
  exit 1
}
if [ "$build" != cpu ]; then
  {
    echo "############################################################################"
    echo "# WARNING: .venv has a CUDA build of torch ($(installed_torch), CUDA $build)."
    echo "# symptom-bot runs on the CPU only: this build and its nvidia-* wheels take"
    echo "# gigabytes for nothing. For the CPU build, start over:"
    echo "#   rm -rf .venv && bash scripts/setup.sh"
    echo "############################################################################"
  } >&2
fi

pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
