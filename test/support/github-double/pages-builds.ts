/**
 * Legacy Pages builds: a build of a commit goes queued → building → built (the Pages host then
 * serves that commit) or errored (the host keeps the old content). A newer build cancels an older
 * one still running, as quick successive pushes do on GitHub.
 */
import type { DoubleContext } from "./double-context.ts";
import { isoTime } from "./double-context.ts";
import type { DoublePagesBuild, DoubleRepository } from "./double-state.ts";
import { fullName } from "./double-state.ts";

/** GitHub shows this when a newer build supersedes one in progress. */
export const CANCELLED_BUILD_MESSAGE = "Page build was cancelled because a newer build was started.";

export function startPagesBuild(
  context: DoubleContext,
  repository: DoubleRepository,
  commit: string,
  pusher: string,
): DoublePagesBuild {
  const { state, settings } = context;
  const site = repository.pages;
  const created = context.now();
  const name = fullName(repository);
  for (const earlier of state.pagesBuilds) {
    if (earlier.repository === name && (earlier.status === "queued" || earlier.status === "building")) {
      earlier.status = "errored";
      earlier.error = CANCELLED_BUILD_MESSAGE;
      earlier.updatedAt = isoTime(created);
    }
  }
  const build: DoublePagesBuild = {
    id: context.nextId(),
    repository: name,
    commit,
    status: "queued",
    error: null,
    pusher,
    createdAt: isoTime(created),
    updatedAt: isoTime(created),
    duration: 0,
  };
  state.pagesBuilds.push(build);
  if (site) site.status = "building";
  const willFail = settings.pagesBuildsToFail > 0;
  if (willFail) settings.pagesBuildsToFail -= 1;
  const errorMessage = settings.pagesBuildErrorMessage;
  const delay = settings.pagesBuildDelayMs;
  context.changed();

  context.later(Math.min(20, delay), () => {
    if (build.status !== "queued") return;
    build.status = "building";
    build.updatedAt = isoTime(context.now());
    context.changed();
  });
  context.later(delay, () => {
    if (build.status === "errored") return; // cancelled meanwhile
    const finished = context.now();
    build.updatedAt = isoTime(finished);
    build.duration = finished - created;
    const current = repository.pages;
    if (willFail) {
      build.status = "errored";
      build.error = errorMessage;
      if (current) current.status = "errored";
    } else {
      build.status = "built";
      if (current && current.buildType === "legacy") {
        current.status = "built";
        current.publishedSha = commit;
        current.publishedRoot = current.source.path === "/docs" ? "docs" : "";
      }
    }
    context.changed();
  });
  return build;
}
