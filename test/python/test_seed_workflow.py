"""The seed's "evaluate production traces" program, step by step, against tracehouse, checked through the
MLflow client and through tracehouse's own API. Tests run in file order and share the traces of step 0."""

import asyncio
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import mlflow
import pytest
from mlflow.entities import AssessmentSource, AssessmentSourceType
from mlflow.genai.scorers import Guidelines, RelevanceToQuery, RetrievalGroundedness
from packaging.version import Version

from conftest import th_get, th_traces, wait_for

MLFLOW_VERSION = Version(mlflow.__version__)
STATE = {}


def setup_module():
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])


def flush():
    # Newer clients log traces from a background queue; a notebook user waits between cells.
    if hasattr(mlflow, "flush_trace_async_logging"):
        mlflow.flush_trace_async_logging()


def search_last_24h(**kwargs):
    yesterday = datetime.now() - timedelta(days=1)
    return mlflow.search_traces(filter_string=f"timestamp > {int(yesterday.timestamp() * 1000)}", **kwargs)


def test_0_simulate_production_traffic():
    import seed_app

    ids = []
    print("Simulating production traffic...")
    for req in seed_app.test_requests:
        result = seed_app.generate_sales_email(**req)
        assert result["email"]
        ids.append(mlflow.get_last_active_trace_id())
    flush()
    assert len(set(ids)) == 7
    assert all(re.fullmatch(r"tr-[0-9a-f]{32}", i) for i in ids)
    STATE["ids"] = ids


def test_1_search_last_24_hours_returns_a_complete_dataframe():
    traces = search_last_24h()
    assert sorted(traces["trace_id"]) == sorted(STATE["ids"])
    for col in ["trace_id", "trace", "request", "response", "spans", "assessments", "state", "request_time", "trace_metadata", "tags"]:
        assert col in traces.columns
    row = traces[traces["trace_id"] == STATE["ids"][0]].iloc[0]
    assert row["request"] == {"customer_name": "Acme Corp", "user_instructions": "Follow up after product demo"}
    assert "email" in row["response"]
    assert len(row["spans"]) == 3
    assert row["state"] == "OK"
    # Newest first, as MLflow's server orders by default.
    assert list(traces["request_time"]) == sorted(traces["request_time"], reverse=True)
    STATE["traces"] = traces


def test_1b_search_by_status_order_and_pages():
    assert len(mlflow.search_traces(filter_string="attributes.status = 'OK'")) == 7
    assert len(mlflow.search_traces(filter_string="attributes.status = 'ERROR'")) == 0
    oldest = mlflow.search_traces(max_results=3, order_by=["timestamp_ms ASC"])
    assert list(oldest["trace_id"]) == STATE["ids"][:3]
    client = mlflow.MlflowClient()
    seen, token = [], None
    while True:
        page = client.search_traces(locations=["0"], max_results=3, page_token=token) if MLFLOW_VERSION >= Version("3.5") else client.search_traces(experiment_ids=["0"], max_results=3, page_token=token)
        seen += [t.info.trace_id for t in page]
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(STATE["ids"])


def test_1c_get_trace_is_complete():
    trace = mlflow.get_trace(STATE["ids"][1])
    assert trace.info.trace_id == STATE["ids"][1]
    assert trace.info.state.value == "OK"
    assert trace.info.tags["mlflow.traceName"] == "generate_sales_email"
    spans = {s.span_type: s for s in trace.data.spans}
    assert set(spans) == {"AGENT", "RETRIEVER", "CHAT_MODEL"}
    agent, retriever, llm = spans["AGENT"], spans["RETRIEVER"], spans["CHAT_MODEL"]
    assert agent.parent_id is None and retriever.parent_id == agent.span_id and llm.parent_id == agent.span_id
    assert agent.inputs == {"customer_name": "TechStart", "user_instructions": "Check on support ticket status"}
    assert [d["id"] for d in retriever.outputs] == ["TechStart_meeting", "TechStart_tickets", "TechStart_contact"]
    assert llm.inputs["model"] == "gpt-4o-mini"
    assert llm.get_attribute("mlflow.chat.tokenUsage")["total_tokens"] > 0
    assert all(s.trace_id == STATE["ids"][1] for s in trace.data.spans)
    assert trace.data.spans[0].start_time_ns < trace.data.spans[0].end_time_ns


def test_1d_tracehouse_api_sees_the_same_traces_under_both_ids():
    listed = th_traces()
    assert sorted("tr-" + t["trace_id"] for t in listed) == sorted(STATE["ids"])
    tr = STATE["ids"][0]
    s1, by_tr = th_get(f"/api/v1/traces/{tr}")
    s2, by_hex = th_get(f"/api/v1/traces/{tr[3:]}")
    assert s1 == s2 == 200
    assert by_tr["info"]["trace_id"] == by_hex["info"]["trace_id"] == tr[3:]
    assert {s["span_type"] for s in by_tr["spans"]} == {"AGENT", "RETRIEVER", "CHAT_MODEL"}
    assert by_tr["info"]["trace_metadata"]["mlflow.trace_schema.version"] == "3"


def test_2_evaluate_scores_every_trace_without_copying_it():
    before_mlflow = len(search_last_24h(include_spans=False) if MLFLOW_VERSION >= Version("3.4") else search_last_24h())
    before_th = len(th_traces())
    email_scorers = [
        RetrievalGroundedness(),
        RelevanceToQuery(),  # Checks if email addresses the user's request
        Guidelines(
            name="follows_objective",
            guidelines="The generated email must follow the objective in the request.",
        ),
        Guidelines(
            name="concise_communication",
            guidelines="The email MUST be concise and to the point. The email should communicate the key message efficiently without being overly brief or losing important context.",
        ),
        Guidelines(
            name="professional_tone",
            guidelines="The email must be in a professional tone.",
        ),
    ]
    results = mlflow.genai.evaluate(data=STATE["traces"], scorers=email_scorers)
    flush()
    names = {"retrieval_groundedness", "relevance_to_query", "follows_objective", "concise_communication", "professional_tone"}
    assert {k.split("/")[0] for k in results.metrics} >= names
    # Evaluation annotated the traces in place: no trace was cloned.
    assert len(search_last_24h()) == before_mlflow == 7
    assert len(th_traces()) == before_th == 7
    for tr in STATE["ids"]:
        judged = {a.name: a for a in mlflow.get_trace(tr).info.assessments if a.source.source_type == "LLM_JUDGE" and a.name in names}
        assert set(judged) == names, tr
        assert judged["professional_tone"].value == "yes"
        assert judged["professional_tone"].rationale
        status, body = th_get(f"/api/v1/traces/{tr}/assessments")
        assert status == 200
        assert names <= {a["name"] for a in body["assessments"] if a["source"]["source_type"] == "LLM_JUDGE"}
    # The run records the evaluation, and the traces are found through it.
    run = mlflow.get_run(results.run_id)
    assert run.info.experiment_id == "0"
    assert "professional_tone/mean" in run.data.metrics
    linked = mlflow.search_traces(run_id=results.run_id)
    assert sorted(linked["trace_id"]) == sorted(STATE["ids"])
    STATE["run_id"] = results.run_id


@dataclass
class FeedbackRequest:
    trace_id: str
    thumbs_up: bool
    user_id: str
    rationale: str


async def feedback(request: FeedbackRequest):
    """The seed's FastAPI feedback endpoint body: annotates the trace with the end user's feedback."""
    mlflow.log_feedback(
        trace_id=request.trace_id,
        name="user_satisfaction",
        value=request.thumbs_up,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=request.user_id),
        rationale=request.rationale,
    )
    return {"message": "Feedback recorded successfully", "trace_id": request.trace_id}


def test_3_annotations_expectation_feedback_override_delete():
    tr = STATE["ids"][2]
    expectation = mlflow.log_expectation(trace_id=tr, name="expected_facts", value=["quarterly review", "happy with performance"])
    answer = asyncio.run(feedback(FeedbackRequest(trace_id=tr, thumbs_up=True, user_id="user-42", rationale="Nice and short")))
    assert answer["trace_id"] == tr

    by_name = {a.name: a for a in mlflow.get_trace(tr).info.assessments}
    assert by_name["expected_facts"].value == ["quarterly review", "happy with performance"]
    fb = by_name["user_satisfaction"]
    assert fb.value is True and fb.source.source_type == "HUMAN" and fb.source.source_id == "user-42"
    # The same rows, through tracehouse's API and search.
    status, body = th_get(f"/api/v1/traces/{tr}/assessments")
    mine = {a["name"]: a for a in body["assessments"]}
    assert mine["user_satisfaction"]["value"] is True and mine["user_satisfaction"]["source"] == {"source_type": "HUMAN", "source_id": "user-42"}
    assert mine["expected_facts"]["kind"] == "expectation"
    found = th_traces(filter="feedback.user_satisfaction = 'true'")
    assert ["tr-" + t["trace_id"] for t in found] == [tr]

    new = mlflow.override_feedback(trace_id=tr, assessment_id=fb.assessment_id, value=False, rationale="Changed my mind")
    assert new.overrides == fb.assessment_id
    assert mlflow.get_assessment(tr, fb.assessment_id).valid is False
    assert th_traces(filter="feedback.user_satisfaction = 'false'")[0]["trace_id"] == tr[3:]

    mlflow.delete_assessment(trace_id=tr, assessment_id=expectation.assessment_id)
    assert "expected_facts" not in {a.name for a in mlflow.get_trace(tr).info.assessments}
    assert "expected_facts" not in {a["name"] for a in th_get(f"/api/v1/traces/{tr}/assessments")[1]["assessments"]}


def test_4_trace_tags_set_and_delete():
    tr = STATE["ids"][3]
    client = mlflow.MlflowClient()
    client.set_trace_tag(tr, "reviewed", "yes")
    assert mlflow.get_trace(tr).info.tags["reviewed"] == "yes"
    assert th_get(f"/api/v1/traces/{tr}")[1]["info"]["tags"]["reviewed"] == "yes"
    assert [t["trace_id"] for t in th_traces(filter="tag.reviewed = 'yes'")] == [tr[3:]]
    assert list(mlflow.search_traces(filter_string="tag.reviewed = 'yes'")["trace_id"]) == [tr]
    client.delete_trace_tag(tr, "reviewed")
    assert "reviewed" not in mlflow.get_trace(tr).info.tags
    assert th_traces(filter="tag.reviewed = 'yes'") == []


def test_5_session_and_user_land_in_tracehouse():
    @mlflow.trace
    def chat(q):
        mlflow.update_current_trace(metadata={"mlflow.trace.session": "sess-7", "mlflow.trace.user": "carol"}, tags={"channel": "web"})
        return q.upper()

    chat("hi")
    tr = mlflow.get_last_active_trace_id()
    flush()
    info = th_get(f"/api/v1/traces/{tr}")[1]["info"]
    assert info["session_id"] == "sess-7" and info["user_id"] == "carol" and info["tags"]["channel"] == "web"
    assert [t["trace_id"] for t in th_traces(filter="trace.session_id = 'sess-7'")] == [tr[3:]]
    STATE["ids"].append(tr)


def test_6_tracehouse_scorer_verdicts_come_back_as_feedback():
    if not os.environ.get("TRACEHOUSE_SCORERS"):
        pytest.skip("tracehouse was started without scorers")
    tr = STATE["ids"][0]

    def verdicts():
        mine = [a for a in mlflow.get_trace(tr).info.assessments if a.name in ("th_professional", "error_free")]
        return mine if len(mine) == 2 else None

    by_name = {a.name: a for a in wait_for("tracehouse's own scorers", verdicts)}
    judge = by_name["th_professional"]
    assert judge.source.source_type == "LLM_JUDGE" and judge.value == "yes" and judge.rationale
    assert int(judge.metadata["judge_input_tokens"]) > 0 and "judge_model" in judge.metadata
    assert by_name["error_free"].source.source_type == "CODE" and by_name["error_free"].value is True


def test_7_errors_are_mlflow_errors():
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        mlflow.MlflowClient().get_trace("tr-" + "0" * 32)
    assert "not found" in str(e.value).lower()
    assert mlflow.get_experiment_by_name("no-such-experiment") is None
    exp = mlflow.set_experiment("sales-emails")
    assert exp.name == "sales-emails" and exp.experiment_id != "0"
    assert mlflow.set_experiment("sales-emails").experiment_id == exp.experiment_id
    mlflow.set_experiment(experiment_id="0")


def test_8_delete_traces():
    client = mlflow.MlflowClient()
    victim = STATE["ids"][-1]
    deleted = client.delete_traces(experiment_id="0", trace_ids=[victim])
    assert deleted == 1
    assert victim not in set(mlflow.search_traces()["trace_id"])
    assert th_get(f"/api/v1/traces/{victim}")[0] == 404
