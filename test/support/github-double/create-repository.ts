/**
 * Creating a repository in the double: GitHub's name and description rules, the bare repository
 * on disk, optional first commit (`auto_init`, or a test's seeded content).
 */
import { join } from "node:path";
import type { DoubleContext } from "./double-context.ts";
import { isoTime } from "./double-context.ts";
import { commitFiles, createBareRepository } from "./double-git.ts";
import type { DoubleRepository } from "./double-state.ts";
import { repositoryKey } from "./double-state.ts";

export interface RepositoryValidationError {
  readonly status: 422;
  readonly body: Record<string, unknown>;
}

/** GitHub's limit on repository descriptions. */
export const MAX_DESCRIPTION_LENGTH = 350;

function validationFailed(field: string, message: string, code = "custom"): RepositoryValidationError {
  return {
    status: 422,
    body: {
      message: "Validation Failed",
      errors: [{ resource: "Repository", code, field, message }],
      documentation_url: "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user",
      status: "422",
    },
  };
}

/** The 422 GitHub sends for a description it will not store, or undefined when it is fine. */
export function descriptionProblem(description: unknown): RepositoryValidationError | undefined {
  if (description === undefined || description === null) return undefined;
  if (typeof description !== "string") return validationFailed("description", "description is not a string", "invalid");
  if ([...description].length > MAX_DESCRIPTION_LENGTH) {
    return validationFailed("description", `description is too long (maximum is ${MAX_DESCRIPTION_LENGTH} characters)`);
  }
  // Tabs and newlines included: GitHub's repository description is a single line of text.
  if (/[\u0000-\u001f\u007f]/.test(description)) {
    return validationFailed("description", "description control characters are not allowed");
  }
  return undefined;
}

/** GitHub replaces characters it does not allow in names with `-` rather than refusing. */
export function normaliseRepositoryName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "-");
}

export function nameTaken(): RepositoryValidationError {
  return {
    status: 422,
    body: {
      message: "Repository creation failed.",
      errors: [
        { resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" },
      ],
      documentation_url: "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user",
      status: "422",
    },
  };
}

export interface NewRepository {
  readonly owner: string;
  readonly name: unknown;
  readonly description?: unknown;
  readonly homepage?: unknown;
  readonly private?: unknown;
  readonly visibility?: unknown;
  readonly defaultBranch?: string;
  /** Files of a first commit (auto_init writes a README). */
  readonly files?: Readonly<Record<string, string | Buffer>>;
  readonly seeded?: boolean;
}

export async function createRepository(
  context: DoubleContext,
  request: NewRepository,
): Promise<{ ok: true; repository: DoubleRepository } | { ok: false; error: RepositoryValidationError }> {
  if (typeof request.name !== "string" || request.name.trim() === "") {
    return {
      ok: false,
      error: {
        status: 422,
        body: {
          message: "Repository creation failed.",
          errors: [{ resource: "Repository", code: "missing_field", field: "name" }],
          documentation_url: "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user",
          status: "422",
        },
      },
    };
  }
  const name = normaliseRepositoryName(request.name.trim()).slice(0, 100);
  if (name === "." || name === "..") return { ok: false, error: validationFailed("name", "name is invalid", "invalid") };
  const problem = descriptionProblem(request.description);
  if (problem) return { ok: false, error: problem };
  const key = repositoryKey(request.owner, name);
  if (context.state.repositories.has(key)) return { ok: false, error: nameTaken() };

  const id = context.nextId();
  const now = isoTime(context.now());
  const defaultBranch = request.defaultBranch ?? "main";
  const repository: DoubleRepository = {
    id,
    owner: request.owner,
    name,
    private: request.private === true || request.visibility === "private",
    description: typeof request.description === "string" && request.description !== "" ? request.description : null,
    homepage: typeof request.homepage === "string" ? request.homepage : null,
    defaultBranch,
    createdAt: now,
    updatedAt: now,
    pushedAt: null,
    directory: join(context.dataDir, "repositories", `${id}.git`),
    seeded: request.seeded ?? false,
    pages: undefined,
  };
  // Claimed before the awaits below so two concurrent creates cannot both succeed.
  context.state.repositories.set(key, repository);
  try {
    await createBareRepository(repository.directory, defaultBranch, context.dataDir);
    if (request.files && Object.keys(request.files).length > 0) {
      await commitFiles(repository.directory, defaultBranch, request.files, "Initial commit", context.dataDir);
      repository.pushedAt = now;
    }
  } catch (error) {
    context.state.repositories.delete(key);
    throw error;
  }
  context.changed();
  return { ok: true, repository };
}
