// The web page of `syncstream serve` in Debian's headless chromium, driven by
// playwright-core (from npm; no browser download: executablePath is the
// system's chromium).
//
//     node web_page_test.js BASE_URL [TOKEN]
//
// BASE_URL is http://127.0.0.1:PORT of a server started empty with the default
// route. The test posts lines (a line, a warning, an error, from two sources)
// and checks that the page shows them, that new lines arrive live, that the
// source filter, pause/resume and download work. Prints one line per check;
// exits 1 on the first failure. Every wait is bounded.
"use strict";
const { chromium } = require("playwright-core");

const base = process.argv[2];
const token = process.argv[3] || "";
const route = base + "/sync-stream";
const headers = { "Content-Type": "application/json" };
if (token) headers.Authorization = "Bearer " + token;
const WAIT_MS = 20000;

function ok(name) {
  console.log("ok   " + name);
}

async function post(body) {
  const r = await fetch(route, { method: "POST", headers, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error("POST answered " + r.status + ": " + (await r.text()));
}

function batch(mirror, n, source, items) {
  return { type: "batch", mirror, batch: n, source, items };
}

const line = (text) => ({ type: "str", data: { value: text + "\n" } });

// The visible records as [source, kind, text].
async function visibleRows(page) {
  return page.$$eval(".rec:not(.hidden)", (rows) =>
    rows.map((d) => [d.dataset.source, d.className.replace(/^rec /, ""), d.querySelector(".text").textContent])
  );
}

async function expectRows(page, name, want) {
  const wantJson = JSON.stringify(want);
  try {
    await page.waitForFunction(
      (w) => {
        const rows = [...document.querySelectorAll(".rec:not(.hidden)")].map((d) => [
          d.dataset.source,
          d.className.replace(/^rec /, ""),
          d.querySelector(".text").textContent,
        ]);
        return JSON.stringify(rows) === w;
      },
      wantJson,
      { timeout: WAIT_MS }
    );
  } catch (e) {
    throw new Error(name + ": the page shows " + JSON.stringify(await visibleRows(page)) + ", want " + wantJson);
  }
  ok(name);
}

async function main() {
  // Lines posted before the page opens: a plain line, then a warning and an error.
  await post(line("build started"));
  await post(batch("w2", 1, "worker-2", [line("compiling a.c"), { type: "warning", data: "unused variable x" }]));
  await post(batch("w3", 1, "worker-3", [{ type: "error", data: "Traceback\n  boom" }]));

  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(base + "/" + (token ? "?token=" + encodeURIComponent(token) : ""));

    await expectRows(page, "records posted before the page opened are shown", [
      ["", "line", "build started"],
      ["worker-2", "line", "compiling a.c"],
      ["worker-2", "warning", "unused variable x"],
      ["worker-3", "error", "Traceback\n  boom"],
    ]);

    // Warnings and errors stand out: their own colours, unlike a plain line.
    const colours = await page.$$eval(".rec", (rows) => rows.map((d) => getComputedStyle(d).backgroundColor));
    if (colours[2] === colours[0] || colours[3] === colours[0] || colours[2] === colours[3])
      throw new Error("warning and error rows are not marked: " + JSON.stringify(colours));
    ok("warnings and errors stand out (" + colours.slice(2).join(", ") + ")");
    const title = await page.$eval(".rec", (d) => d.title);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(title)) throw new Error("row time: " + title);
    ok("a row shows its record's time on hover (" + title + ")");
    const status = await page.textContent("#status");
    if (status !== "live") throw new Error("status is " + status);
    ok("status: live");

    // Live: a line posted now arrives without a reload.
    await post(batch("w2", 2, "worker-2", [line("linking")]));
    await expectRows(page, "a line posted while the page is open arrives live", [
      ["", "line", "build started"],
      ["worker-2", "line", "compiling a.c"],
      ["worker-2", "warning", "unused variable x"],
      ["worker-3", "error", "Traceback\n  boom"],
      ["worker-2", "line", "linking"],
    ]);

    // Filter by source.
    await page.selectOption("#source", JSON.stringify("worker-2"));
    await expectRows(page, "the source filter shows one source", [
      ["worker-2", "line", "compiling a.c"],
      ["worker-2", "warning", "unused variable x"],
      ["worker-2", "line", "linking"],
    ]);
    await page.selectOption("#source", "");
    const sources = await page.$$eval("#source option", (o) => o.map((x) => x.value));
    if (JSON.stringify(sources) !== JSON.stringify(["", '""', '"worker-2"', '"worker-3"']))
      throw new Error("source menu: " + JSON.stringify(sources));
    ok("the source menu lists every source seen");

    // Pause: new records wait, counted; resume shows them.
    await page.click("#pause");
    await post(line("while paused"));
    await page.waitForFunction(() => document.getElementById("pause").textContent === "resume (1 new)", null, {
      timeout: WAIT_MS,
    });
    if ((await page.$$(".rec")).length !== 5) throw new Error("a record was shown while paused");
    ok("pause holds new records (button: resume (1 new))");
    await page.click("#pause");
    await expectRows(page, "resume shows what arrived while paused", [
      ["", "line", "build started"],
      ["worker-2", "line", "compiling a.c"],
      ["worker-2", "warning", "unused variable x"],
      ["worker-3", "error", "Traceback\n  boom"],
      ["worker-2", "line", "linking"],
      ["", "line", "while paused"],
    ]);

    // Download what the page received.
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: WAIT_MS }), page.click("#download")]);
    const path = await download.path();
    const text = require("fs").readFileSync(path, "utf8");
    const lines = text.trim().split("\n");
    if (download.suggestedFilename() !== "syncstream.log" || !/ worker-3 error: Traceback$/.test(lines[3]) ||
        !/ - line: while paused$/.test(lines[lines.length - 1]))
      throw new Error("download " + download.suggestedFilename() + ": " + JSON.stringify(text));
    ok("download saves the records (" + lines.length + " lines)");

    // Text is shown as text, never as markup.
    await post(line("<b>not bold</b> & <script>x()</script>"));
    await page.waitForFunction(() => document.querySelectorAll(".rec").length === 7, null, { timeout: WAIT_MS });
    const last = await page.$eval(".rec:last-child .text", (s) => [s.textContent, s.children.length]);
    if (last[0] !== "<b>not bold</b> & <script>x()</script>" || last[1] !== 0)
      throw new Error("markup in a record was interpreted: " + JSON.stringify(last));
    ok("record text is not interpreted as HTML");

    if (errors.length) throw new Error("page errors: " + errors.join("; "));
    ok("no script error on the page");
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.log("FAIL " + e.message);
    process.exit(1);
  }
);
