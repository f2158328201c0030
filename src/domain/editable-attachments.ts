/**
 * Whether the brief asks to change an attachment ("commit execute.py after fixing the error in
 * it", "update data.json with …") or only to ship it ("data.csv as-is", "the page reads
 * data.csv"). As-is is the default and stays byte-identical; an editable attachment is the
 * starting content of a file the model edits, and the edited version is what gets committed.
 * Pure and deterministic: part of the build contract.
 */

export type AttachmentTreatment = "as-is" | "editable";

// Verbs that ask for the file itself to change. "add" and "change" are here too: "add a row to
// data.csv" changes the file; the gap rule below keeps "add a chart of data.csv" out.
const editVerbs =
  "fix|fixes|fixing|fixed|correct|corrects|correcting|edit|edits|editing|update|updates|updating|extend|extends|extending|complete|completes|completing|finish|finishing|repair|repairs|repairing|debug|debugging|patch|patches|patching|modify|modifies|modifying|change|changes|changing|amend|amending|refactor|refactoring|rewrite|rewriting|improve|improving|clean\\s+up|cleaning\\s+up|resolve|resolving|append\\s+to|append|add|adding|implement|implementing|fill\\s+in|filling\\s+in|translate|translating|optimi[sz]e|optimi[sz]ing";
const verbAhead = new RegExp(`\\b(?:${editVerbs})\\b`, "gi");

// Words that, between the verb and the file name, show the verb is about something else:
// "fix the page so it reads data.csv", "add a chart of data.csv", "update the table from data.csv".
const otherObject =
  /\b(?:page|pages|app|site|website|html|index|ui|view|chart|charts|graph|table|button|form|layout|style|styles|css|title|heading|readme|workflow|so|that|which|reads?|reading|loads?|loading|uses?|using|displays?|displaying|shows?|showing|renders?|rendering|fetch(?:es|ing)?|from|into|based|parses?|parsing|convert(?:s|ing)?|imports?|generated?|then)\b/i;
const fileLike = /\b[\w-]+\.[A-Za-z0-9]{1,5}\b/;

// Said of the attachment in its clause: keep it exactly.
const keepAsIs =
  /\bas[\s-]is\b|\bunchanged\b|\bunmodified\b|\buntouched\b|\bverbatim\b|\bbyte[\s-](?:for[\s-]byte|identical)\b|\bexactly\s+as\s+(?:attached|given|provided|supplied)\b|\b(?:do\s+not|don't|never|must\s+not|should\s+not|without)\s+(?:\S+\s+){0,2}(?:fix|edit|modif|chang|alter|touch|updat|rewrit)\w*\b|\bleave\s+(?:\S+\s+){0,3}(?:alone|intact)\b|\bkeep\s+(?:\S+\s+){0,3}(?:intact|identical|byte-identical|the\s+same)\b/i;

// The defect words that make "fix it" in the same or the next sentence point at the file.
const defect = /\b(?:bugs?|buggy|errors?|mistakes?|typos?|broken|fails?|failing|crash(?:es)?|wrong|incorrect|todos?|incomplete|unfinished|issues?|problems?)\b/i;
const fixIt = new RegExp(`\\b(?:${editVerbs})\\s+(?:it|this|that|them|the\\s+(?:bug|bugs|error|errors|mistake|mistakes|typo|typos|issue|issues|problem|problems|script|file|code|todos?))\\b`, "i");
// "after fixing", "with the bug fixed", "a corrected version of".
const fixAfter = new RegExp(`^[^.;!?]{0,60}?\\b(?:after|once|by|when|having|while)\\s+(?:${editVerbs})\\b|^[^.;!?]{0,40}?\\bwith\\s+(?:the\\s+|its\\s+|all\\s+)?(?:bugs?|errors?|mistakes?|typos?|issues?|problems?)\\s+(?:fixed|corrected|resolved|repaired)\\b`, "i");
const fixedVersionOf = /\b(?:fixed|corrected|updated|edited|completed|extended|repaired|patched|debugged|working|cleaned[\s-]up|improved|modified)\s+(?:version|copy|edition)\s+of\s+(?:the\s+)?(?:attached\s+|provided\s+|given\s+)?$/i;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Sentences, split on end punctuation followed by space or a line break (a dot in `a.py` is not one). */
function sentencesOf(brief: string): string[] {
  return brief.split(/(?<=[.!?])\s+|[\r\n]+/).filter((sentence) => sentence.trim() !== "");
}

/** Clauses: parts of a sentence joined by `;`, `,`, "but", "and", "then". */
function clausesOf(sentence: string): string[] {
  return sentence.split(/\s*[;,]\s*|\s+(?:but|and|then|while|whereas)\s+/i).filter((clause) => clause.trim() !== "");
}

function clauseAsksToEdit(clause: string, mention: RegExp): boolean {
  const found = mention.exec(clause);
  if (!found) return false;
  const before = clause.slice(0, found.index);
  const after = clause.slice(found.index + found[0].length);
  if (keepAsIs.test(clause)) return false;
  if (fixedVersionOf.test(before)) return true;
  if (fixAfter.test(after)) return true;
  // The last edit verb before the name, with nothing between them that names another object.
  const verbs = [...before.matchAll(verbAhead)];
  const verb = verbs.at(-1);
  if (verb) {
    const gap = before.slice(verb.index + verb[0].length);
    const words = gap.trim().split(/\s+/).filter(Boolean);
    if (words.length <= 8 && !otherObject.test(gap) && !fileLike.test(gap)) return true;
  }
  return false;
}

/** How the brief treats the attachment `name`: `editable` only when it asks to change it. */
export function attachmentTreatment(brief: string, name: string): AttachmentTreatment {
  const mention = new RegExp(`(?<![\\w./-])[\`"'“]?(?:\\./)?${escapeRegExp(name)}[\`"'”]?(?![\\w/-]|\\.\\w)`, "i");
  const sentences = sentencesOf(brief);
  for (const [index, sentence] of sentences.entries()) {
    if (!mention.test(sentence)) continue;
    const clauses = clausesOf(sentence);
    if (clauses.some((clause) => keepAsIs.test(clause) && mention.test(clause))) continue;
    if (clauses.some((clause) => clauseAsksToEdit(clause, mention))) return "editable";
    // "execute.py has a bug. Fix it." — the defect named with the file, the fix right after.
    const next = sentences[index + 1] ?? "";
    if (defect.test(sentence) && (fixIt.test(sentence) || fixIt.test(next))) return "editable";
  }
  return "as-is";
}

/** The attachments the brief asks to change, in the order given. */
export function editableAttachments(brief: string, names: readonly string[]): string[] {
  return names.filter((name) => attachmentTreatment(brief, name) === "editable");
}
