/**
 * Who a request is, as GitHub decides it: a personal token (classic, with scopes, or fine-grained,
 * with permissions), an App installation token, or an App JWT (RS256, verified with node:crypto
 * against the test App's public key). Also what that identity may do on a repository.
 */
import { verify } from "node:crypto";
import type { DoubleApp, DoubleRepository, DoubleState, DoubleToken, PermissionLevel, Permissions } from "./double-state.ts";
import { findAccount } from "./double-state.ts";

export type Identity =
  | { readonly kind: "anonymous" }
  | { readonly kind: "token"; readonly token: DoubleToken }
  | { readonly kind: "app"; readonly app: DoubleApp };

export type AuthResult = { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly message: string };

/** GitHub's answer for a token it does not know, has revoked or has seen expire. */
export const BAD_CREDENTIALS = "Bad credentials";
const JWT_UNDECODABLE = "A JSON web token could not be decoded";
/** GitHub refuses App JWTs that live longer than ten minutes. */
const MAX_JWT_LIFETIME_SECONDS = 600;
/** GitHub tolerates some clock drift; Octokit back-dates `iat` by 30 s for the same reason. */
const CLOCK_SKEW_SECONDS = 60;

/** The credential inside an Authorization header: `token X`, `Bearer X` or `Basic base64(user:X)`. */
export function credentialOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^(token|bearer|basic)\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, scheme = "", value = ""] = match;
  if (scheme.toLowerCase() !== "basic") return value;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  // git sends `x-access-token:<token>`; GitHub takes the token as the password whatever the user.
  return colon >= 0 ? decoded.slice(colon + 1) : decoded;
}

function looksLikeJwt(credential: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(credential);
}

export function authenticate(state: DoubleState, header: string | undefined, now: number): AuthResult {
  if (header === undefined || header.trim() === "") return { ok: true, identity: { kind: "anonymous" } };
  const credential = credentialOf(header);
  if (!credential) return { ok: false, message: BAD_CREDENTIALS };
  if (looksLikeJwt(credential)) return verifyAppJwt(state, credential, now);
  const token = state.tokens.get(credential);
  if (!token || token.revoked || (token.expiresAt !== undefined && now >= token.expiresAt)) {
    return { ok: false, message: BAD_CREDENTIALS };
  }
  return { ok: true, identity: { kind: "token", token } };
}

function verifyAppJwt(state: DoubleState, jwt: string, now: number): AuthResult {
  const [headerPart = "", payloadPart = "", signaturePart = ""] = jwt.split(".");
  let header: { alg?: unknown };
  let payload: { iss?: unknown; iat?: unknown; exp?: unknown };
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
    payload = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
  } catch {
    state.jwts.push({ iss: undefined, iat: undefined, exp: undefined, accepted: false, reason: "undecodable" });
    return { ok: false, message: JWT_UNDECODABLE };
  }
  const refuse = (reason: string, message = JWT_UNDECODABLE): AuthResult => {
    state.jwts.push({ iss: payload.iss, iat: payload.iat, exp: payload.exp, accepted: false, reason });
    return { ok: false, message };
  };
  const app = state.app;
  if (!app) return refuse("no app configured");
  if (header.alg !== "RS256") return refuse("alg is not RS256");
  if (String(payload.iss) !== String(app.id)) return refuse("iss is not the app id", "Integration not found");
  const signatureOk = verify(
    "RSA-SHA256",
    Buffer.from(`${headerPart}.${payloadPart}`),
    app.publicKey,
    Buffer.from(signaturePart, "base64url"),
  );
  if (!signatureOk) return refuse("bad signature");
  const nowSeconds = Math.floor(now / 1000);
  if (typeof payload.iat !== "number" || payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    return refuse(
      "iat missing or in the future",
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
    );
  }
  if (typeof payload.exp !== "number" || payload.exp <= nowSeconds) {
    return refuse(
      "expired",
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
    );
  }
  if (payload.exp - payload.iat > MAX_JWT_LIFETIME_SECONDS || payload.exp > nowSeconds + MAX_JWT_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    return refuse("lives longer than ten minutes", "'Expiration time' claim ('exp') is too far in the future");
  }
  state.jwts.push({ iss: payload.iss, iat: payload.iat, exp: payload.exp, accepted: true, reason: undefined });
  return { ok: true, identity: { kind: "app", app } };
}

/** What GitHub's classic scopes amount to, in the permission vocabulary of Apps. */
export function permissionsFromScopes(scopes: readonly string[]): Permissions {
  const permissions: Record<string, PermissionLevel> = { metadata: "read" };
  if (scopes.includes("repo") || scopes.includes("public_repo")) {
    Object.assign(permissions, {
      administration: "write",
      contents: "write",
      pages: "write",
      actions: "write",
      statuses: "write",
      deployments: "write",
    });
  }
  if (scopes.includes("workflow")) permissions.workflows = "write";
  return permissions;
}

const LEVEL_RANK: Record<PermissionLevel, number> = { read: 1, write: 2, admin: 3 };

export function hasPermission(permissions: Permissions, name: string, level: PermissionLevel): boolean {
  const granted = permissions[name];
  return granted !== undefined && LEVEL_RANK[granted] >= LEVEL_RANK[level];
}

/** The account whose repositories a token reaches with its permissions (others: public reads only). */
export function tokenReaches(state: DoubleState, token: DoubleToken, owner: string): boolean {
  if (token.kind !== "classic") return token.account?.toLowerCase() === owner.toLowerCase();
  const login = token.login ?? "";
  if (login.toLowerCase() === owner.toLowerCase()) return true;
  const account = findAccount(state, owner);
  return account?.type === "Organization" && account.members.some((member) => member.toLowerCase() === login.toLowerCase());
}

/** Whether a classic token without `repo` (only `public_repo`) is kept off this repository. */
function scopeExcludes(token: DoubleToken, repository: DoubleRepository): boolean {
  return token.kind === "classic" && repository.private && !token.scopes.includes("repo");
}

export type Access = "none" | "read" | "permitted";

/**
 * What `identity` may do with `permission` at `level` on `repository`: `permitted`; `read` when it
 * can see the repository but lacks the permission (GitHub answers 403); `none` when the repository
 * is invisible to it (GitHub answers 404, never revealing a private repository).
 */
export function repositoryAccess(
  state: DoubleState,
  identity: Identity,
  repository: DoubleRepository,
  permission: string,
  level: PermissionLevel,
): Access {
  const publicRead = !repository.private;
  if (identity.kind !== "token") return readOrNone(permission, level, publicRead);
  const token = identity.token;
  if (!tokenReaches(state, token, repository.owner) || scopeExcludes(token, repository)) {
    return readOrNone(permission, level, publicRead);
  }
  if (hasPermission(token.permissions, permission, level)) return "permitted";
  return "read";
}

/** Anyone may read a public repository's contents, metadata, Pages and Actions; nothing more. */
function readOrNone(permission: string, level: PermissionLevel, publicRead: boolean): Access {
  if (!publicRead) return "none";
  const publicReadable = ["metadata", "contents", "pages", "actions"];
  return level === "read" && publicReadable.includes(permission) ? "permitted" : "read";
}

/** GitHub's 403 wording differs by credential kind. */
export function notAccessibleMessage(identity: Identity): string {
  if (identity.kind === "token" && identity.token.kind !== "installation") {
    return "Resource not accessible by personal access token";
  }
  return "Resource not accessible by integration";
}
