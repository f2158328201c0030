import { describe, expect, it } from "vitest";
import { checkShrinkage, rewriteRequest } from "./shrinkage-rule.ts";
import { tree } from "./test-files.ts";

// About 1500 characters of a working page, and the ~300 a lazy answer leaves of it.
const fullPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sales Summary 7f3a9</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css">
</head>
<body class="container py-4">
  <h1 class="h3">Sales Summary</h1>
  <p>Total sales: <strong id="total-sales">…</strong></p>
  <table id="product-sales" class="table"><thead><tr><th>Product</th><th>Sales</th></tr></thead><tbody></tbody></table>
  <script>
    async function main() {
      const text = await (await fetch("data.csv")).text();
      const [header, ...lines] = text.trim().split(/\\r?\\n/);
      const cols = header.split(",");
      const p = cols.indexOf("product"), s = cols.indexOf("sales");
      const byProduct = new Map();
      let total = 0;
      for (const line of lines) {
        const cells = line.split(",");
        const value = parseFloat(cells[s]);
        total += value;
        byProduct.set(cells[p], (byProduct.get(cells[p]) || 0) + value);
      }
      const body = document.querySelector("#product-sales tbody");
      for (const [product, value] of byProduct) {
        const tr = document.createElement("tr");
        tr.innerHTML = "<td></td><td></td>";
        tr.children[0].textContent = product;
        tr.children[1].textContent = value.toFixed(2);
        body.appendChild(tr);
      }
      document.querySelector("#total-sales").textContent = total.toFixed(2);
    }
    main();
  </script>
</body>
</html>
`;
const stub = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sales Summary 7f3a9</title></head>
<body>
  <p>Sales by region: <span id="region-sales"></span></p>
  <script>
    // ... rest of the existing code unchanged ...
    document.querySelector("#region-sales").textContent = "ok";
  </script>
</body>
</html>
`;

describe("checkShrinkage", () => {
  it("has nothing to compare in round 1", () => {
    expect(checkShrinkage({ files: tree({ "index.html": stub }), brief: "x" })).toEqual([
      { rule: "shrinkage", passed: true, severity: "block", detail: "no previous version to compare with" },
    ]);
  });

  it("blocks an answer that deletes ~80 % of index.html for a brief asking for a small addition", () => {
    expect(fullPage.length).toBeGreaterThan(1400);
    expect(stub.length).toBeLessThan(400);
    const decisions = checkShrinkage({
      previous: tree({ "index.html": fullPage, "data.csv": "product,sales\nA,1\n" }),
      files: tree({ "index.html": stub, "data.csv": "product,sales\nA,1\n" }),
      brief: "Add a small line showing sales by region in #region-sales.",
    });
    const blocking = decisions.filter((d) => !d.passed && d.severity === "block");
    expect(blocking.map((d) => d.detail)).toEqual([
      `the text files would shrink by ${Math.round((1 - (stub.length + 18) / (fullPage.length + 18)) * 100)} % (${Buffer.byteLength(fullPage) + 18} → ${Buffer.byteLength(stub) + 18} bytes) and the brief does not ask for a rewrite; keep every existing feature and change only what the brief asks`,
      `index.html would shrink by ${Math.round((1 - Buffer.byteLength(stub) / Buffer.byteLength(fullPage)) * 100)} % (${Buffer.byteLength(fullPage)} → ${Buffer.byteLength(stub)} bytes) and the brief does not ask for a rewrite; keep every existing feature and change only what the brief asks`,
    ]);
    expect(blocking[1]!.path).toBe("index.html");
  });

  it("measures index.html on its own, so a big unchanged data file cannot hide its loss", () => {
    const data = "x,y\n".repeat(2000);
    const decisions = checkShrinkage({ previous: tree({ "index.html": fullPage, "data.csv": data }), files: tree({ "index.html": stub, "data.csv": data }), brief: "Add a footer." });
    expect(decisions.filter((d) => d.severity === "block" && !d.passed).map((d) => d.path)).toEqual(["index.html"]);
  });

  it("allows the same shrinkage, with a warning, when the brief asks for a rewrite", () => {
    const decisions = checkShrinkage({ previous: tree({ "index.html": fullPage }), files: tree({ "index.html": stub }), brief: "Rewrite the page from scratch as a minimal region view." });
    expect(decisions.every((d) => d.severity === "warn")).toBe(true);
    expect(decisions[0]!.detail).toMatch(/allowed because the brief asks for it \("Rewrite"\)/);
  });

  it("passes growth and small shrinkage, and ignores binary files and tiny pages", () => {
    expect(checkShrinkage({ previous: tree({ "index.html": stub }), files: tree({ "index.html": fullPage }), brief: "x" })[0]).toMatchObject({ passed: true });
    expect(checkShrinkage({ previous: tree({ "index.html": fullPage }), files: tree({ "index.html": fullPage.slice(0, 900) }), brief: "x" })[0]).toMatchObject({ passed: true });
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(5000)]);
    expect(checkShrinkage({ previous: tree({ "index.html": fullPage, "a.png": png }), files: tree({ "index.html": fullPage }), brief: "x" }).filter((d) => d.severity === "block" && !d.passed)).toEqual([]);
    expect(checkShrinkage({ previous: tree({ "index.html": "<p>hello world</p>".repeat(5) }), files: tree({ "index.html": "<p>x</p>" }), brief: "x" })[0]).toMatchObject({ passed: true });
  });

  it("warns about files removed since the previous version", () => {
    const decisions = checkShrinkage({ previous: tree({ "index.html": fullPage, "data.csv": "a" }), files: tree({ "index.html": fullPage }), brief: "x" });
    expect(decisions).toEqual([{ rule: "shrinkage", passed: false, severity: "warn", detail: "files removed since the previous version: data.csv" }]);
  });
});

describe("rewriteRequest", () => {
  it.each([
    ["Rewrite the app in plain JS", "Rewrite"],
    ["Redesign the layout", "Redesign"],
    ["Replace the table with a chart", "Replace"],
    ["Start over with a simpler page", "Start over"],
    ["Build it again from scratch", "from scratch"],
    ["Add a footer with the date", undefined],
    ["Add a replacement-free footer", undefined],
  ])("%s", (brief, word) => {
    expect(rewriteRequest(brief)).toBe(word);
  });
});
