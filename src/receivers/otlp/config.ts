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
  })
  .strict();

export type OtlpReceiverConfig = z.infer<typeof otlpReceiverConfigSchema>;
