"""The sales-email app of MLflow's "Evaluate production traces" guide with the OpenTelemetry Python SDK.

The model call is traced by opentelemetry-instrumentation-openai-v2 (OpenTelemetry GenAI conventions);
the request (invoke_agent) and the CRM lookup (retrieval) are spans of the app in the same conventions.
Traces go to tracehouse over OTLP/HTTP with the standard OTEL_* environment variables; the model is the
stub examples/python/run.sh starts (OPENAI_BASE_URL). Run it with: bash examples/python/run.sh otel
"""

import json
import os
from pathlib import Path

import openai
from opentelemetry import _logs, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import Status, StatusCode

# Resource.create() reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the exporters read
# OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS (the project header).
class ReportingSpanExporter(OTLPSpanExporter):
    """Counts failed exports, which the SDK would only log, so the end of the run can say so."""

    failures = 0

    def export(self, spans):
        result = super().export(spans)
        if result != SpanExportResult.SUCCESS:
            ReportingSpanExporter.failures += 1
        return result


resource = Resource.create()
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(ReportingSpanExporter()))
trace.set_tracer_provider(tracer_provider)
# The instrumentation sends message content as GenAI log events when asked to: tracehouse merges them into the spans.
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
_logs.set_logger_provider(logger_provider)
OpenAIInstrumentor().instrument()

tracer = trace.get_tracer("sales-email-app")
client = openai.OpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY from the environment

DATA = json.loads((Path(__file__).parent.parent / "sales-email-data.json").read_text())
CRM_DATA = DATA["crm"]


def retrieve_customer_info(customer_name: str) -> list[dict]:
    """Retrieve customer information from the CRM database."""
    with tracer.start_as_current_span("retrieve_customer_info") as span:
        span.set_attribute("gen_ai.operation.name", "retrieval")
        span.set_attribute("gen_ai.retrieval.query.text", customer_name)
        docs = []
        if data := CRM_DATA.get(customer_name):
            tickets = ", ".join(data["support_tickets"]) if data["support_tickets"] else "No open tickets"
            docs = [
                {"id": f"{customer_name}_meeting", "content": f"Recent meeting: {data['recent_meeting']}"},
                {"id": f"{customer_name}_tickets", "content": f"Support tickets: {tickets}"},
                {"id": f"{customer_name}_contact", "content": f"Contact: {data['contact_name']}"},
            ]
        span.set_attribute("gen_ai.retrieval.documents", json.dumps(docs))
        return docs


def generate_sales_email(customer_name: str, user_instructions: str) -> dict[str, str]:
    """Generate a personalized sales email from customer data and the given objective."""
    with tracer.start_as_current_span("generate_sales_email") as span:
        request = {"customer_name": customer_name, "user_instructions": user_instructions}
        span.set_attribute("gen_ai.operation.name", "invoke_agent")
        span.set_attribute("gen_ai.agent.name", "sales_email")
        span.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": json.dumps(request)}]}]))
        try:
            context = "\n".join(doc["content"] for doc in retrieve_customer_info(customer_name))
            prompt = f"""You are a sales representative. Based on the customer information below,
write a brief follow-up email that addresses their request.
Customer Information: {context}
User instructions: {user_instructions}"""
            response = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": prompt}],
                max_tokens=2000,
            )
            email = response.choices[0].message.content
            span.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": email}]}]))
            return {"email": email, "trace_id": format(span.get_span_context().trace_id, "032x")}
        except Exception as e:
            span.record_exception(e)
            span.set_status(Status(StatusCode.ERROR, str(e)))
            raise


print("Simulating production traffic...")
failed = 0
for req in DATA["requests"]:
    try:
        result = generate_sales_email(**req)
        print(f"✓ Generated email for {req['customer_name']}  trace {result['trace_id']}")
    except Exception as e:
        failed += 1
        print(f"✗ Error for {req['customer_name']}: {e}")

tracer_provider.shutdown()  # exports what is still batched
logger_provider.shutdown()
where = f"{os.environ.get('OTEL_EXPORTER_OTLP_ENDPOINT')} ({os.environ.get('OTEL_EXPORTER_OTLP_HEADERS')})"
if ReportingSpanExporter.failures:
    print(f"✗ Could not send the traces to {where}. Is tracehouse running (npm start)?")
    raise SystemExit(1)
print(f"Sent {len(DATA['requests'])} traces to {where}")
raise SystemExit(1 if failed else 0)
