/**
 * The load generator of bench/receiver-kafka.bench.ts, in its own process so its CPU is not the receiver's:
 *   node --import tsx bench/lib/receiver-load.ts PORT CONCURRENCY WORKLOAD_JSON WARMUP_REQUESTS
 * Builds the workload, sends the warm-up set, prints `start`, sends the measured set, prints
 * `done {"wallMs":…,"retries":…,"spans":…}`.
 */
import { sendAll } from './harness.js';
import { buildWorkload, warmupOf, type Workload } from './workload.js';

const [port, concurrency, workloadJson, warmupRequests] = process.argv.slice(2) as [string, string, string, string];
const workload = JSON.parse(workloadJson) as Workload;
const { bodies, spans } = buildWorkload(workload);
const warm = buildWorkload(warmupOf(workload, Number(warmupRequests)));
await sendAll(Number(port), warm.bodies, 'warmup', Number(concurrency));
process.stdout.write('start\n');
const r = await sendAll(Number(port), bodies, 'bench', Number(concurrency));
process.stdout.write(`done ${JSON.stringify({ wallMs: r.wallMs, retries: r.retries, spans, warmupSpans: warm.spans })}\n`);
