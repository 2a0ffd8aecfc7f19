"""The sales-email app of MLflow's "Evaluate production traces" guide, as the guide writes it, with MLflow's SDK.

MLflow traces the app (@mlflow.trace) and the OpenAI calls (mlflow.openai.autolog()); with
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, MLflow exports the traces over OTLP (to tracehouse) instead of to a
tracking server. The model is the stub examples/python/run.sh starts (OPENAI_BASE_URL).
Run it with: bash examples/python/run.sh mlflow
"""

import json
import os
from pathlib import Path

import mlflow
import openai
from mlflow.entities import Document

client = openai.OpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY from the environment
mlflow.openai.autolog()  # Enable automatic tracing for OpenAI calls

DATA = json.loads((Path(__file__).parent.parent / "sales-email-data.json").read_text())
# Simulated CRM database
CRM_DATA = DATA["crm"]


@mlflow.trace(span_type="RETRIEVER")
def retrieve_customer_info(customer_name: str) -> list[Document]:
    """Retrieve customer information from CRM database"""
    if data := CRM_DATA.get(customer_name):
        return [
            Document(
                id=f"{customer_name}_meeting",
                page_content=f"Recent meeting: {data['recent_meeting']}",
            ),
            Document(
                id=f"{customer_name}_tickets",
                page_content=f"Support tickets: {', '.join(data['support_tickets']) if data['support_tickets'] else 'No open tickets'}",
            ),
            Document(
                id=f"{customer_name}_contact",
                page_content=f"Contact: {data['contact_name']}",
            ),
        ]
    return []


@mlflow.trace(span_type="AGENT")
def generate_sales_email(customer_name: str, user_instructions: str) -> dict[str, str]:
    """Generate personalized sales email based on customer data & given objective."""
    # Retrieve customer information
    customer_docs = retrieve_customer_info(customer_name)
    context = "\n".join([doc.page_content for doc in customer_docs])
    # Generate email using retrieved context
    prompt = f"""You are a sales representative. Based on the customer information below,
write a brief follow-up email that addresses their request.
Customer Information: {context}
User instructions: {user_instructions}"""
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": prompt}],
        max_tokens=2000,
    )
    trace_id = mlflow.get_current_active_span().trace_id.removeprefix("tr-")
    return {"email": response.choices[0].message.content, "trace_id": trace_id}


# Run requests and capture traces
print("Simulating production traffic...")
failed = 0
for req in DATA["requests"]:
    try:
        result = generate_sales_email(**req)
        print(f"✓ Generated email for {req['customer_name']}  trace {result['trace_id']}")
    except Exception as e:
        failed += 1
        print(f"✗ Error for {req['customer_name']}: {e}")

mlflow.flush_trace_async_logging()
print(f"Sent {len(DATA['requests'])} traces to {os.environ.get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')} ({os.environ.get('OTEL_EXPORTER_OTLP_HEADERS')})")
raise SystemExit(1 if failed else 0)
