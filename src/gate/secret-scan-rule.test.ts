import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { scanSecrets } from "./secret-scan-rule.ts";
import { fakeGithubToken, tree } from "./test-files.ts";

const pageWith = (line: string) => `<!doctype html>\n<html>\n<head><title>t</title></head>\n<body>\n<script>\n${line}\n</script>\n</body>\n</html>\n`;

describe("scanSecrets", () => {
  it("blocks a GitHub token in index.html, naming rule, file and line but never the token", async () => {
    const token = fakeGithubToken();
    expect(token).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    const decisions = await scanSecrets(tree({ "index.html": pageWith(`const auth = "${token}";`) }));
    expect(decisions).toHaveLength(1);
    const [decision] = decisions;
    expect(decision).toMatchObject({ rule: "secret-scan", passed: false, severity: "block", path: "index.html" });
    expect(decision!.detail).toContain("@secretlint/secretlint-rule-github");
    expect(decision!.detail).toContain("index.html at line 6");
    expect(decision!.detail).not.toContain(token);
    expect(decision!.detail).not.toContain(token.slice(4, 20));
    expect(JSON.stringify(decisions)).not.toContain(token.slice(4));
  });

  it("scans every text file, not only HTML", async () => {
    const token = fakeGithubToken();
    const decisions = await scanSecrets(tree({ "index.html": pageWith(""), "js/config.js": `export const t = "${token}";\n`, "notes.md": `token: ${token}\n` }));
    expect(decisions.map((d) => d.path)).toEqual(["js/config.js", "notes.md"]);
  });

  it("cannot be silenced by secretlint-disable comments in the scanned file", async () => {
    const token = fakeGithubToken();
    const files = tree({
      "a.js": `/* secretlint-disable */\nconst a = "${token}";\n`,
      "b.js": `// secretlint-disable-next-line\nconst b = "${token}";\n`,
      "c.html": `<!-- secretlint-disable -->\n<script>const c = "${token}";</script>\n`,
    });
    expect((await scanSecrets(files)).map((d) => [d.path, d.passed])).toEqual([
      ["a.js", false],
      ["b.js", false],
      ["c.html", false],
    ]);
  });

  it("finds other recommended-preset secrets, e.g. a private key", async () => {
    // Generated per run: the preset rejects placeholder keys, and no real key belongs in source.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const decisions = await scanSecrets(tree({ "key.txt": privateKey }));
    expect(decisions[0]).toMatchObject({ passed: false, severity: "block", path: "key.txt" });
    expect(decisions[0]!.detail).toContain("secretlint-rule-privatekey");
    for (const line of privateKey.split("\n").slice(1, -2)) expect(decisions[0]!.detail).not.toContain(line);
  });

  it("blocks a configured secret in text or binary files without quoting it", async () => {
    const secret = "student-secret-value-123";
    const decisions = await scanSecrets(tree({ "index.html": pageWith(`// ${secret}`), "a.png": Buffer.concat([Buffer.from([0x89, 0x50, 0, 0]), Buffer.from(secret)]) }), { knownSecrets: [secret, "short"] });
    expect(decisions.map((d) => d.detail)).toEqual([
      "configured secret #1 appears in index.html at line 6; remove it",
      "configured secret #1 appears in a.png at byte 4; remove it",
    ]);
  });

  it.each([
    ["base64", (secret: string) => `const key = atob("${Buffer.from(secret).toString("base64")}");`],
    ["base64", (secret: string) => `const blob = "${Buffer.from(`{"k":"${secret}","n":1}`).toString("base64")}";`],
    ["base64", (secret: string) => `const key = "${Buffer.from(`x${secret}`).toString("base64url")}";`],
    ["hex", (secret: string) => `const key = "${Buffer.from(secret).toString("hex").toUpperCase()}";`],
    ["URL-encoded", (secret: string) => `fetch("/x?k=${encodeURIComponent(secret)}")`],
    ["URL-encoded", (secret: string) => `const key = decodeURIComponent("${[...Buffer.from(secret)].map((b) => `%${b.toString(16)}`).join("")}");`],
    ["reversed", (secret: string) => `const key = "${[...secret].reverse().join("")}".split("").reverse().join("");`],
  ])("blocks a configured secret written %s", async (encoding, write) => {
    const secret = "s3cr3t/value+with=odd&chars";
    const decisions = await scanSecrets(tree({ "app.js": write(secret) }), { knownSecrets: [secret] });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]!.detail).toBe(`configured secret #1 appears ${encoding} in app.js at line 1; remove it`);
    expect(decisions[0]!.detail).not.toContain(secret);
  });

  it("passes clean files, skips binary files for secretlint and files over the size cap", async () => {
    const token = fakeGithubToken();
    const decisions = await scanSecrets(tree({ "index.html": pageWith("const x = 1;"), "a.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]), "huge.txt": `${token}\n${"x".repeat(300)}` }), { maxFileBytes: 300 });
    expect(decisions).toEqual([{ rule: "secret-scan", passed: true, severity: "block", detail: "1 text files scanned with secretlint's recommended rules: no findings" }]);
  });
});
