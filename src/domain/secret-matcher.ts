import { createHash, timingSafeEqual } from "node:crypto";

/** Hashing first gives equal-length inputs, so the comparison time says nothing about the secret. */
const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * A constant-time check of a presented secret against the expected one (the student secret at
 * intake, the API key on reads). Only the expected value's digest is kept.
 */
export function createSecretMatcher(expected: string): (presented: string) => boolean {
  const expectedDigest = digest(expected);
  return (presented) => timingSafeEqual(digest(presented), expectedDigest);
}
