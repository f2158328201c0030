/** GitHub refuses longer repository descriptions (422), as students found out (PROTOCOL §7). */
export const MAX_REPOSITORY_DESCRIPTION = 350;

/**
 * A repository description from free text (the brief): control characters (GitHub refuses them)
 * and runs of whitespace become one space, and the result is cut to 350 UTF-16 units (the
 * strictest way of counting; a surrogate pair is never split) ending in an ellipsis. Idempotent,
 * so adapters may apply it again.
 */
export function repositoryDescription(text: string): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (flat.length <= MAX_REPOSITORY_DESCRIPTION) return flat;
  let cut = "";
  for (const character of flat) {
    if (cut.length + character.length > MAX_REPOSITORY_DESCRIPTION - 1) break;
    cut += character;
  }
  return `${cut.trimEnd()}…`;
}
