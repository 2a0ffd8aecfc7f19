#!/usr/bin/env bash
# Runs a Python version of the sales-email example against a local OpenAI-compatible stub (no key, no
# network), sending its traces to tracehouse with the standard OTEL_* variables.
#   bash examples/python/run.sh otel     # OpenTelemetry Python SDK + opentelemetry-instrumentation-openai-v2
#   bash examples/python/run.sh mlflow   # MLflow's SDK (mlflow-tracing), exporting over OTLP
# The first run creates a venv for the example (examples/python/.venv-NAME, or under
# $TRACEHOUSE_EXAMPLES_VENVS) with the pinned requirements-NAME.txt; later runs reuse it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
name="${1:-otel}"
case "$name" in
  otel | mlflow) ;;
  *) echo "usage: bash examples/python/run.sh [otel|mlflow]" >&2; exit 2 ;;
esac
venv="${TRACEHOUSE_EXAMPLES_VENVS:-$here}/.venv-$name"
python="${PYTHON:-python3}"

# (Re)create the venv when it is missing or its requirements changed; a failed install leaves no venv behind.
if ! cmp -s "$here/requirements-$name.txt" "$venv/requirements.txt" 2>/dev/null; then
  echo "creating $venv (pip install -r requirements-$name.txt) ..." >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-$name.txt"; then
    rm -rf "$venv"
    echo "run.sh: could not install requirements-$name.txt" >&2
    exit 1
  fi
  cp "$here/requirements-$name.txt" "$venv/requirements.txt"
fi

# The standard variables, defaulted so that the script alone reaches a local `npm start`.
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-sales-email-app}"
export OTEL_EXPORTER_OTLP_ENDPOINT="${OTEL_EXPORTER_OTLP_ENDPOINT:-http://localhost:4318}"
export OTEL_EXPORTER_OTLP_PROTOCOL="${OTEL_EXPORTER_OTLP_PROTOCOL:-http/protobuf}"
export OTEL_EXPORTER_OTLP_HEADERS="${OTEL_EXPORTER_OTLP_HEADERS:-x-tracehouse-project=sales-email}"
# Message content is off by default in the OpenAI instrumentation; the example wants it on the spans
# (the current GenAI conventions: gen_ai.input.messages / gen_ai.output.messages).
export OTEL_SEMCONV_STABILITY_OPT_IN="${OTEL_SEMCONV_STABILITY_OPT_IN:-gen_ai_latest_experimental}"
export OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="${OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT:-SPAN_ONLY}"

if [ "$name" = mlflow ]; then
  # MLflow exports over OTLP when an OTLP endpoint is set. The traces endpoint alone, not the base one:
  # with the base one it also exports metrics, which look up an experiment on a tracking server.
  export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-${OTEL_EXPORTER_OTLP_ENDPOINT%/}/v1/traces}"
  unset OTEL_EXPORTER_OTLP_ENDPOINT
  # It asks for a tracking URI even then (nothing is sent there when only OTLP is on).
  export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-${TRACEHOUSE_API_URL:-http://localhost:8080}}"
fi

# The stub serves until its standard input closes, which is when this script ends, however it ends.
if [ -z "${OPENAI_BASE_URL:-}" ]; then
  coproc STUB { exec node "$here/../openai-stub.mjs"; }
  read -r line <&"${STUB[0]}"
  export "${line?}"
  export OPENAI_API_KEY="${OPENAI_API_KEY:-stub}"
fi

"$venv/bin/python" "$here/sales_email_$name.py"
