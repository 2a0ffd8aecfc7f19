/**
 * The sales-email app of MLflow's "Evaluate production traces" guide, in Node: a CRM lookup (a RETRIEVER
 * span), an email written by the model (the OpenAI client, traced by OpenInference's instrumentation) and
 * the request around both (an AGENT span). It talks to a local OpenAI-compatible stub that it starts
 * itself, so it needs no key and no network, and sends its traces to tracehouse over OTLP/HTTP with the
 * standard OTEL_* environment variables (defaults below: a tracehouse on localhost, project sales-email).
 *
 *   npm run example        # after `npm start` in another terminal
 */
import { readFileSync } from 'node:fs';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import OpenAI from 'openai';
import { startOpenAIStub } from '../openai-stub.mjs';

// The standard variables, defaulted so that `npm run example` alone reaches a local `npm start`.
process.env.OTEL_SERVICE_NAME ??= 'sales-email-app';
process.env.OTEL_EXPORTER_OTLP_ENDPOINT ??= 'http://localhost:4318';
process.env.OTEL_EXPORTER_OTLP_HEADERS ??= 'x-tracehouse-project=sales-email';

// The exporter's failures would only reach OTel's diagnostic log: keep them to say so at the end.
const exporter = new OTLPTraceExporter();
const exportErrors = [];
const reporting = {
  export: (spans, done) =>
    exporter.export(spans, (result) => {
      if (result.code !== 0) exportErrors.push(result.error?.message ?? 'export failed');
      done(result);
    }),
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush(),
};
const provider = new NodeTracerProvider({
  resource: defaultResource().merge(detectResources({ detectors: [envDetector] })),
  spanProcessors: [new BatchSpanProcessor(reporting)],
});
provider.register();
new OpenAIInstrumentation({ tracerProvider: provider }).manuallyInstrument(OpenAI);
const tracer = trace.getTracer('sales-email-app');

const { crm, requests } = JSON.parse(readFileSync(new URL('../sales-email-data.json', import.meta.url), 'utf8'));
const stub = process.env.OPENAI_BASE_URL ? null : await startOpenAIStub();
const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL ?? stub.url, apiKey: process.env.OPENAI_API_KEY ?? 'stub' });

/** A span around `fn` with OpenInference's kind and input/output attributes. */
function traced(name, kind, input, fn) {
  return tracer.startActiveSpan(name, async (span) => {
    span.setAttributes({ 'openinference.span.kind': kind, 'input.value': JSON.stringify(input), 'input.mime_type': 'application/json' });
    try {
      const out = await fn(span);
      span.setAttributes({ 'output.value': JSON.stringify(out), 'output.mime_type': 'application/json' });
      return out;
    } catch (err) {
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

function retrieveCustomerInfo(customerName) {
  return traced('retrieve_customer_info', 'RETRIEVER', { customer_name: customerName }, async (span) => {
    const data = crm[customerName];
    if (!data) return [];
    const docs = [
      { id: `${customerName}_meeting`, content: `Recent meeting: ${data.recent_meeting}` },
      {
        id: `${customerName}_tickets`,
        content: `Support tickets: ${data.support_tickets.length ? data.support_tickets.join(', ') : 'No open tickets'}`,
      },
      { id: `${customerName}_contact`, content: `Contact: ${data.contact_name}` },
    ];
    docs.forEach((d, i) => {
      span.setAttribute(`retrieval.documents.${i}.document.id`, d.id);
      span.setAttribute(`retrieval.documents.${i}.document.content`, d.content);
    });
    return docs;
  });
}

function generateSalesEmail(customerName, userInstructions) {
  return traced('generate_sales_email', 'AGENT', { customer_name: customerName, user_instructions: userInstructions }, async (span) => {
    const docs = await retrieveCustomerInfo(customerName);
    const context = docs.map((d) => d.content).join('\n');
    const prompt = `You are a sales representative. Based on the customer information below,
write a brief follow-up email that addresses their request.
Customer Information: ${context}
User instructions: ${userInstructions}`;
    const response = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], max_tokens: 2000 });
    return { email: response.choices[0].message.content, trace_id: span.spanContext().traceId };
  });
}

console.log('Simulating production traffic...');
let failed = 0;
for (const req of requests) {
  try {
    const { trace_id } = await generateSalesEmail(req.customer_name, req.user_instructions);
    console.log(`✓ Generated email for ${req.customer_name}  trace ${trace_id}`);
  } catch (err) {
    failed++;
    console.log(`✗ Error for ${req.customer_name}: ${err.message}`);
  }
}
// Everything is exported before the process ends: shutdown flushes the batch processor.
await provider.shutdown();
await stub?.close();
const where = `${process.env.OTEL_EXPORTER_OTLP_ENDPOINT} (${process.env.OTEL_EXPORTER_OTLP_HEADERS})`;
if (exportErrors.length) {
  console.log(`✗ Could not send the traces to ${where}: ${exportErrors[0]}. Is tracehouse running (npm start)?`);
  process.exitCode = 1;
} else {
  console.log(`Sent ${requests.length} traces to ${where}`);
  process.exitCode = failed ? 1 : 0;
}
