import { z } from 'zod';
import { hostSchema, portSchema } from '../../component/net.js';

const listener = (port: number) =>
  z
    .object({ enabled: z.boolean().default(true), host: hostSchema.default('127.0.0.1'), port: portSchema.default(port) })
    .strict()
    .prefault({});

/** `receivers`: the OTLP receiver's two protocols and the request size limit they share. */
export const otlpReceiverConfigSchema = z
  .object({
    grpc: listener(4317),
    http: listener(4318),
    /** Largest accepted request body, compressed or decompressed, for both transports. */
    max_body_bytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /**
     * Bytes held on behalf of clients at most: bodies being read, decoded requests waiting for the writer,
     * batches being written (a request counts about REQUEST_MEMORY_FACTOR times its decompressed size).
     * Past it new requests get 503 + Retry-After (gRPC UNAVAILABLE) at once. 256 MiB fits a 1 GiB
     * container beside the process's fixed overhead.
     */
    memory_budget_bytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(256 * 1024 * 1024),
    /** OTLP/HTTP request bodies read at once, at most; more are answered 503 + Retry-After at once. */
    max_concurrent_uploads: z.number().int().min(1).max(100_000).default(64),
    /** An OTLP/HTTP body not read completely within this is answered 408 and its connection closed. */
    body_timeout_ms: z.number().int().min(100).default(30_000),
  })
  .strict();

export type OtlpReceiverConfig = z.infer<typeof otlpReceiverConfigSchema>;
