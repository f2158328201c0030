import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCandidateServer, type CandidateServer } from "./candidate-server.ts";

const files = new Map<string, Buffer>([
  ["index.html", Buffer.from("<h1>home</h1>")],
  ["app.js", Buffer.from("console.log(1)")],
  ["style.css", Buffer.from("body{}")],
  ["data.csv", Buffer.from("a,b\n1,2\n")],
  ["input.md", Buffer.from("# hi")],
  ["logo.svg", Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>")],
  ["about.html", Buffer.from("<p>about</p>")],
  ["docs/index.html", Buffer.from("<p>docs</p>")],
  ["docs/guide.md", Buffer.from("guide")],
  ["_private/config.yml", Buffer.from("secret: 1")],
  [".env", Buffer.from("TOKEN=x")],
  ["404.html", Buffer.from("<p>custom 404</p>")],
  ["with space.txt", Buffer.from("spaced")],
]);

let server: CandidateServer;

/** Raw HTTP, so paths reach the server exactly as written (fetch would normalise `..`). */
function get(path: string, method = "GET"): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  server = await startCandidateServer(files, { basePath: "sum-of-sales-7f3a9" });
});

afterAll(async () => {
  await server.close();
});

describe("startCandidateServer", () => {
  it("serves under the project prefix on 127.0.0.1", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sum-of-sales-7f3a9\/$/);
  });

  it("serves index.html for the site and its folders, redirecting to add the slash", async () => {
    const home = await get("/sum-of-sales-7f3a9/");
    expect(home).toMatchObject({ status: 200, body: "<h1>home</h1>" });
    expect(home.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(await get("/sum-of-sales-7f3a9")).toMatchObject({ status: 301, headers: { location: "/sum-of-sales-7f3a9/" } });
    expect(await get("/sum-of-sales-7f3a9/docs")).toMatchObject({ status: 301, headers: { location: "/sum-of-sales-7f3a9/docs/" } });
    expect(await get("/sum-of-sales-7f3a9/docs/")).toMatchObject({ status: 200, body: "<p>docs</p>" });
    expect(await get("/sum-of-sales-7f3a9/about")).toMatchObject({ status: 200, body: "<p>about</p>" });
    expect(await get("/sum-of-sales-7f3a9/index.html?x=1#y")).toMatchObject({ status: 200 });
  });

  it("sends content types by extension", async () => {
    const types = await Promise.all(["app.js", "style.css", "data.csv", "input.md", "logo.svg"].map(async (name) => (await get(`/sum-of-sales-7f3a9/${name}`)).headers["content-type"]));
    expect(types).toEqual(["text/javascript; charset=utf-8", "text/css; charset=utf-8", "text/csv; charset=utf-8", "text/markdown; charset=utf-8", "image/svg+xml; charset=utf-8"]);
    expect(await get("/sum-of-sales-7f3a9/with%20space.txt")).toMatchObject({ status: 200, body: "spaced", headers: expect.objectContaining({ "content-type": "text/plain; charset=utf-8" }) });
  });

  it("answers 404 outside the prefix, which is what breaks root-absolute paths on Pages too", async () => {
    const rootAbsolute = await get("/app.js");
    expect(rootAbsolute.status).toBe(404);
    expect(rootAbsolute.body).not.toContain("custom 404");
    expect(await get("/")).toMatchObject({ status: 404 });
  });

  it("serves the site's own 404.html for missing files inside the site", async () => {
    expect(await get("/sum-of-sales-7f3a9/missing.js")).toMatchObject({ status: 404, body: "<p>custom 404</p>" });
    // Pages paths are case-sensitive.
    expect((await get("/sum-of-sales-7f3a9/DATA.csv")).status).toBe(404);
  });

  it("hides what Jekyll would not publish", async () => {
    expect((await get("/sum-of-sales-7f3a9/_private/config.yml")).status).toBe(404);
    expect((await get("/sum-of-sales-7f3a9/.env")).status).toBe(404);
    const noJekyll = await startCandidateServer(
      new Map([[".nojekyll", Buffer.alloc(0)], ["_app/x.js", Buffer.from("x")], [".github/workflows/ci.yml", Buffer.from("on: push")]]),
      { basePath: "p" },
    );
    try {
      expect((await fetch(`${noJekyll.url}_app/x.js`)).status).toBe(200);
      // Dot-files stay unpublished without Jekyll too, as on the Pages host.
      expect((await fetch(`${noJekyll.url}.github/workflows/ci.yml`)).status).toBe(404);
    } finally {
      await noJekyll.close();
    }
  });

  it("cannot be walked out of", async () => {
    for (const path of [
      "/sum-of-sales-7f3a9/../sum-of-sales-7f3a9/app.js",
      "/sum-of-sales-7f3a9/docs/../.env",
      "/sum-of-sales-7f3a9/%2e%2e/etc/passwd",
      "/sum-of-sales-7f3a9/..%2f..%2fetc%2fpasswd",
      "/sum-of-sales-7f3a9/docs%2f..%2fapp.js",
      "/sum-of-sales-7f3a9/app.js%00",
      "/sum-of-sales-7f3a9/%E0%A4%A",
      "/sum-of-sales-7f3a9//etc/passwd",
    ]) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it("answers HEAD without a body and refuses other methods", async () => {
    expect(await get("/sum-of-sales-7f3a9/app.js", "HEAD")).toMatchObject({ status: 200, body: "" });
    expect((await get("/sum-of-sales-7f3a9/app.js", "POST")).status).toBe(405);
  });

  it("refuses a base path that is not one plain segment", async () => {
    await expect(startCandidateServer(files, { basePath: "a/b" })).rejects.toThrow(/one plain path segment/);
    await expect(startCandidateServer(files, { basePath: ".." })).rejects.toThrow(/one plain path segment/);
  });
});
