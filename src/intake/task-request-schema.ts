import { z } from "zod";

// C0 controls (bar tab, LF, CR), DEL, C1 controls, and UTF-16 halves without their partner (in a
// `u` regex a well-formed pair is one code point, so \p{Surrogate} only matches a lone half).
// PostgreSQL cannot store NUL in text at all; the rest are for filenames, logs and terminals.
const forbiddenInText = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\p{Surrogate}/u;
const forbiddenInLine = /[\u0000-\u001f\u007f-\u009f]|\p{Surrogate}/u;

/** A string free of control characters and unpaired surrogates; `multiline` keeps tab, LF and CR. */
const cleanString = (multiline: boolean) =>
  z.string().refine((value) => !(multiline ? forbiddenInText : forbiddenInLine).test(value), {
    message: multiline ? "must not contain control characters (other than tab and line breaks) or unpaired surrogates" : "must not contain control characters or unpaired surrogates",
  });

/** The wire shape of PROTOCOL §1, checked field by field so a 400 can list every problem. */
export const taskRequestSchema = z.object({
  email: cleanString(false).pipe(z.string().trim().min(1).max(320)),
  secret: z.string().max(1024),
  task: cleanString(false).pipe(z.string().trim().min(1).max(200)),
  round: z.number().int().min(1).max(1000),
  nonce: cleanString(false).pipe(z.string().trim().min(1).max(200)),
  brief: cleanString(true).pipe(z.string().trim().min(1).max(100_000)),
  checks: z
    .array(z.union([cleanString(true).pipe(z.string().max(10_000)), z.object({ js: cleanString(true).pipe(z.string().min(1).max(10_000)) }).strict()]))
    .max(200)
    .default([]),
  evaluation_url: cleanString(false).pipe(z.string().trim().max(2048)),
  attachments: z
    // Data URIs may be wrapped at 76 columns, hence line breaks in `url`.
    .array(z.object({ name: cleanString(false).pipe(z.string().max(300)), url: cleanString(true) }))
    .max(50)
    .nullish()
    .transform((v) => v ?? []),
});

export type TaskRequestWire = z.infer<typeof taskRequestSchema>;
