#!/usr/bin/env bash
# Creates (once) the virtual environment that test/python runs in: the real `mlflow` client from PyPI at the
# version given, plus the seed program's other packages. Prints the venv's python on success; any failure
# exits non-zero, so CI fails rather than skipping the MLflow suite.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: .ci/mlflow-venv.sh MLFLOW_VERSION}"
venv=".ci/.venv-mlflow-${version}"
# A marker written last: a half-built venv (an interrupted pip) is rebuilt, never trusted.
if [[ ! -f "$venv/.complete" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet "mlflow==${version}" openai pytest >&2
  "$venv/bin/python" -c "import mlflow, openai, pytest; assert mlflow.__version__ == '${version}', mlflow.__version__" >&2
  touch "$venv/.complete"
fi
echo "$(pwd)/$venv/bin/python"
