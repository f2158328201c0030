import { z } from "zod";

/** The wire shape of PROTOCOL §1, checked field by field so a 400 can list every problem. */
export const taskRequestSchema = z.object({
  email: z.string().trim().min(1).max(320),
  secret: z.string().max(1024),
  task: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^\u0000-\u001f\u007f]+$/, "must not contain control characters"),
  round: z.number().int().min(1).max(1000),
  nonce: z.string().trim().min(1).max(200),
  brief: z.string().trim().min(1).max(100_000),
  checks: z
    .array(z.union([z.string().max(10_000), z.object({ js: z.string().min(1).max(10_000) }).strict()]))
    .max(200)
    .default([]),
  evaluation_url: z.string().trim().max(2048),
  attachments: z
    .array(z.object({ name: z.string().max(300), url: z.string() }))
    .max(50)
    .nullish()
    .transform((v) => v ?? []),
});

export type TaskRequestWire = z.infer<typeof taskRequestSchema>;
