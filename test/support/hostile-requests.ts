import fc from "fast-check";

/**
 * Hostile and random intake requests for the fuzz test (test/integration/intake-fuzz.test.ts)
 * and the fuzz bench (bench/fuzz.ts): bodies near a valid request with fields swapped for
 * nasty values, random JSON, broken JSON, and content types a cross-site page could send.
 */
export interface HostileRequest {
  /** Undefined: no content-type header. */
  readonly contentType: string | undefined;
  readonly payload: string;
}

const nastyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff\ud800",
    "\u001b[31mred",
    "\u0085",
    "\u202eevil",
    "../../etc/passwd",
    ".git/config",
    "CON",
    "<script>alert(1)</script>",
    "'; DROP TABLE tasks; --",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost./",
    "http://127.0.0.1.nip.io/",
    "file:///etc/passwd",
    "data:,x",
    "x".repeat(5000),
  ),
);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const attachment = fc.record({
  name: fc.oneof(fc.constantFrom("data.csv", "input.md", "a/b.txt"), nastyString),
  url: fc.oneof(
    fc.constantFrom("data:text/csv;base64,YSxiCjEsMgo=", "data:text/plain,hello%20world", "data:;base64,!!!!", "data:text/plain;base64,YQ", "https://example.com/x.csv"),
    nastyString,
  ),
});

const fields = ["email", "secret", "task", "round", "nonce", "brief", "checks", "evaluation_url", "attachments"] as const;

/** `valid` is a correct request (right secret); `unique` makes task and nonce fresh per sample. */
export function hostileRequests(valid: Record<string, unknown>, unique: () => string): fc.Arbitrary<HostileRequest> {
  const mutated = fc
    .record({
      overrides: fc.dictionary(fc.constantFrom<string>(...fields, "__proto__", "constructor", "extra"), anyValue, { maxKeys: 3 }),
      removed: fc.subarray([...fields], { maxLength: 2 }),
      attachments: fc.option(fc.array(attachment, { maxLength: 3 }), { nil: undefined }),
      wrongSecret: fc.boolean(),
    })
    .map(({ overrides, removed, attachments, wrongSecret }) => {
      const id = unique();
      const body: Record<string, unknown> = { ...valid, task: `fuzz-${id}`, nonce: `nonce-${id}` };
      if (attachments) body.attachments = attachments;
      if (wrongSecret) body.secret = "not-the-secret";
      for (const field of removed) delete body[field];
      // defineProperty so "__proto__" becomes a real key in the JSON, as an attacker would send it.
      for (const [key, value] of Object.entries(overrides)) Object.defineProperty(body, key, { value, enumerable: true, configurable: true, writable: true });
      return JSON.stringify(body);
    });
  const untouched = fc.constant(null).map(() => {
    const id = unique();
    return JSON.stringify({ ...valid, task: `fuzz-${id}`, nonce: `nonce-${id}` });
  });
  const payload = fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 2, arbitrary: untouched },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? "null") },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: mutated.chain((json) => fc.nat({ max: json.length }).map((cut) => json.slice(0, cut))) },
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant("application/json") },
    { weight: 1, arbitrary: fc.constantFrom("application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "") },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.record({ contentType, payload });
}
