import { z } from 'zod';
import { hostSchema, portSchema } from '../component/net.js';

/** `api`: the JSON API (search, traces, assessments) with health and metrics. */
export const apiConfigSchema = z.object({ enabled: z.boolean().default(true), host: hostSchema.default('127.0.0.1'), port: portSchema.default(8080) }).strict();

export type ApiConfig = z.infer<typeof apiConfigSchema>;
