import { z } from 'zod';
import { kafkaConfigSchema } from './kafka/config.js';

/** `bus`: which bus carries batches from receivers to the writer and evaluator. */
export const busConfigSchema = z
  .object({
    /** `inline`: one process, writes coalesced in memory. `kafka`: receivers produce, writers consume. */
    kind: z.enum(['inline', 'kafka']).default('inline'),
    kafka: kafkaConfigSchema.prefault({}),
  })
  .strict();

export type BusConfig = z.infer<typeof busConfigSchema>;
