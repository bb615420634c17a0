import { z } from 'zod';

export const dependencyCheckSchema = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number(),
  error: z.string().optional(),
});

export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  version: z.string(),
  time: z.string(),
  checks: z.record(z.string(), dependencyCheckSchema),
});
export type Health = z.infer<typeof healthSchema>;
