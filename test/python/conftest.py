"""Shared helpers of the MLflow client suite. The suite runs against a started tracehouse: the vitest driver
(test/integration/mlflow-client.test.ts, test/kafka/mlflow-client.test.ts) starts it and the OpenAI stub and
passes MLFLOW_TRACKING_URI, OPENAI_BASE_URL and TRACEHOUSE_API."""

import json
import os
import time
import urllib.parse
import urllib.request

import pytest

TRACEHOUSE_API = os.environ.get("TRACEHOUSE_API") or os.environ["MLFLOW_TRACKING_URI"]


def th_get(path, **params):
    """GET on tracehouse's own /api/v1, answered as (status, json)."""
    query = urllib.parse.urlencode(params)
    url = f"{TRACEHOUSE_API}{path}{'?' + query if query else ''}"
    try:
        with urllib.request.urlopen(url, timeout=30) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def th_traces(project="default", **params):
    """Every trace tracehouse lists for the project (all pages)."""
    out, token = [], None
    while True:
        extra = {"page_token": token} if token else {}
        status, body = th_get("/api/v1/traces", project=project, max_results=100, **params, **extra)
        assert status == 200, body
        out += body["traces"]
        token = body.get("next_page_token")
        if not token:
            return out


def wait_for(what, check, timeout=120.0):
    """Polls `check` until it returns a truthy value: conditions, never fixed sleeps."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)
