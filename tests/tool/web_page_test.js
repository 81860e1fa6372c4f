// The web page of `syncstream serve` in Debian's headless chromium, driven by
// playwright-core (from npm; no browser download: executablePath is the
// system's chromium).
//
//     node web_page_test.js BASE_URL SYNCSTREAM SHOT_DIR [TOKEN_FILE]
//
// BASE_URL is http://127.0.0.1:PORT of a server started empty with the default
// route (and TOKEN_FILE's first line as its token, if given); SYNCSTREAM the
// tool (its `send URL -- CMD` posts stderr and exit records); SHOT_DIR where
// the screenshots go (their paths are printed). The test posts lines (a line,
// a warning, an error, from two sources and none) and checks that the page
// shows them with their time, live; the source, kind and text filters, the
// search's highlighting, the view kept in the URL, pause/resume, the keyboard
// keys, "jump to newest", download, and that record text never becomes
// markup. Then it clears the buffer, sends a failing and a succeeding command
// and checks their stderr line and exit records on a new page. The browser
// runs in a time zone of UTC+05:30 so that local and UTC times differ. Prints
// one line per check; exits 1 on the first failure. Every wait is bounded.
"use strict";
const fs = require("fs");
const pathMod = require("path");
const { spawnSync } = require("child_process");
const { chromium } = require("playwright-core");

const [base, tool, shotDir] = process.argv.slice(2, 5);
const tokenFile = process.argv[5] || "";
const token = tokenFile ? fs.readFileSync(tokenFile, "utf8").split("\n")[0] : "";
const route = base + "/sync-stream";
const pageUrl = base + "/" + (token ? "?token=" + encodeURIComponent(token) : "");
const headers = { "Content-Type": "application/json" };
if (token) headers.Authorization = "Bearer " + token;
const WAIT_MS = 20000;
const TZ_OFFSET_MS = 5.5 * 3600e3; // Asia/Kolkata, no daylight saving time

function ok(name) {
  console.log("ok   " + name);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
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
const rowsNow = () =>
  [...document.querySelectorAll(".rec:not(.hidden)")].map((d) => [
    d.dataset.source,
    d.dataset.kind,
    d.querySelector(".text").textContent,
  ]);

async function expectRows(page, name, want) {
  const wantJson = JSON.stringify(want);
  try {
    await page.waitForFunction(
      (w) => {
        const rows = [...document.querySelectorAll(".rec:not(.hidden)")].map((d) => [
          d.dataset.source,
          d.dataset.kind,
          d.querySelector(".text").textContent,
        ]);
        return JSON.stringify(rows) === w;
      },
      wantJson,
      { timeout: WAIT_MS }
    );
  } catch (e) {
    throw new Error(name + ": the page shows " + JSON.stringify(await page.evaluate(rowsNow)) + ", want " + wantJson);
  }
  ok(name);
}

async function waitFor(page, name, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS });
  } catch (e) {
    throw new Error(name + ": not within " + WAIT_MS + " ms");
  }
  ok(name);
}

// Each row's time cell and the time of its title (ISO-8601 UTC).
async function times(page) {
  return page.$$eval(".rec:not(.hidden)", (rows) => rows.map((d) => [d.querySelector(".time").textContent, d.title]));
}

function expectTimes(rows, utc) {
  for (const [cell, title] of rows) {
    const t = Date.parse(title.split(" ")[0]);
    const want = new Date(utc ? t : t + TZ_OFFSET_MS).toISOString().slice(11, 23) + (utc ? "Z" : "");
    check(cell === want, "time cell " + cell + " for a record of " + title + ", want " + want);
  }
}

// Keep a screenshot of the page as it is, check that no script failed on it,
// and close it.
async function finish(page, errors, name, shots) {
  const shot = pathMod.join(shotDir, name + (token ? "-token" : "") + ".png");
  await page.screenshot({ path: shot });
  shots.push(shot);
  check(errors.length === 0, "page errors: " + errors.join("; "));
  ok("no script error on the page");
  await page.context().close();
}

const START = [
  ["", "line", "build started"],
  ["worker-2", "line", "compiling a.c"],
  ["worker-2", "warning", "unused variable x"],
  ["worker-3", "error", "Traceback\n  boom"],
];

async function mainPage(browser, shots) {
  // Lines posted before the page opens: a plain line, then a warning and an error.
  await post(line("build started"));
  await post(batch("w2", 1, "worker-2", [line("compiling a.c"), { type: "warning", data: "unused variable x" }]));
  await post(batch("w3", 1, "worker-3", [{ type: "error", data: "Traceback\n  boom" }]));

  const context = await browser.newContext({ acceptDownloads: true, timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base + "/")) foreign.push(r.url());
  });
  await page.goto(pageUrl);

  await expectRows(page, "records posted before the page opened are shown", START);

  // Warnings and errors stand out: their own colours, unlike a plain line.
  const colours = await page.$$eval(".rec", (rows) => rows.map((d) => getComputedStyle(d).backgroundColor));
  check(colours[2] !== colours[0] && colours[3] !== colours[0] && colours[2] !== colours[3],
        "warning and error rows are not marked: " + JSON.stringify(colours));
  ok("warnings and errors stand out (" + colours.slice(2).join(", ") + ")");
  const title = await page.$eval(".rec", (d) => d.title);
  check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(title), "row time: " + title);
  ok("a row shows its record's date and time in UTC on hover (" + title + ")");
  const localTimes = await times(page);
  expectTimes(localTimes, false);
  ok("the time column shows local time (" + localTimes[0][0] + " for " + title + ", UTC+05:30)");
  const status = await page.textContent("#status");
  check(status === "live", "status is " + status);
  ok("status: live");
  const none = await page.$eval(".rec .src", (s) => [s.textContent, getComputedStyle(s).fontStyle]);
  check(none[0] === "(none)" && none[1] === "italic", "a record without a source shows " + JSON.stringify(none));
  ok("a record posted without a source shows (none), in italics");

  // Live: a line posted now arrives without a reload.
  await post(batch("w2", 2, "worker-2", [line("linking")]));
  const ALL = [...START, ["worker-2", "line", "linking"]];
  await expectRows(page, "a line posted while the page is open arrives live", ALL);

  // Filter by source.
  await page.selectOption("#source", JSON.stringify("worker-2"));
  await expectRows(page, "the source filter shows one source", [
    ["worker-2", "line", "compiling a.c"],
    ["worker-2", "warning", "unused variable x"],
    ["worker-2", "line", "linking"],
  ]);
  await page.selectOption("#source", JSON.stringify(""));
  await expectRows(page, "the source filter shows the records without a source", [["", "line", "build started"]]);
  await page.selectOption("#source", "");
  const sources = await page.$$eval("#source option", (o) => o.map((x) => [x.value, x.textContent]));
  check(JSON.stringify(sources) === JSON.stringify([["", "all sources"], ['""', "(none)"],
        ['"worker-2"', "worker-2"], ['"worker-3"', "worker-3"]]), "source menu: " + JSON.stringify(sources));
  ok("the source menu lists every source seen, (none) for records without one");

  // Filter by kind.
  await page.selectOption("#kind", "error");
  await expectRows(page, "the kind filter shows errors", [START[3]]);
  await page.selectOption("#kind", "warning");
  await expectRows(page, "the kind filter shows warnings", [START[2]]);
  await page.selectOption("#kind", "problem");
  await expectRows(page, "the kind filter shows errors and warnings", [START[2], START[3]]);
  await page.selectOption("#kind", "");
  await expectRows(page, "all kinds again", ALL);

  // Search: case ignored, every match highlighted, nothing else marked.
  await page.fill("#search", "BOOM");
  await expectRows(page, "the search shows the matching records (BOOM)", [START[3]]);
  await page.fill("#search", "in");
  await expectRows(page, "the search shows the matching records (in)", [
    ["worker-2", "line", "compiling a.c"],
    ["worker-2", "line", "linking"],
  ]);
  const marks = await page.$$eval(".rec:not(.hidden) .text", (ts) => ts.map((t) => [...t.querySelectorAll("mark")].map((m) => m.textContent)));
  check(JSON.stringify(marks) === JSON.stringify([["in"], ["in", "in"]]), "highlighted: " + JSON.stringify(marks));
  const markColour = await page.$eval("mark", (m) => getComputedStyle(m).backgroundColor);
  ok("every match is highlighted (" + JSON.stringify(marks) + ", " + markColour + ")");
  await page.fill("#search", "");
  await expectRows(page, "an empty search shows every record", ALL);
  check((await page.$$("mark")).length === 0, "marks left after the search was cleared");

  // UTC toggle.
  await page.check("#utc");
  const utcTimes = await times(page);
  expectTimes(utcTimes, true);
  ok("the UTC toggle shows UTC times (" + utcTimes[0][0] + ")");
  await page.uncheck("#utc");
  expectTimes(await times(page), false);
  ok("unchecked, local times again");

  // The view's state in the URL: a link opens the same view.
  await page.selectOption("#source", JSON.stringify("worker-2"));
  await page.selectOption("#kind", "problem");
  await page.check("#utc");
  await page.fill("#search", "vari");
  await expectRows(page, "source, kind and search together", [START[2]]);
  const link = page.url();
  const hash = new URL(link).hash;
  check(hash === "#source=worker-2&kind=problem&q=vari&utc=1", "the URL's fragment is " + hash);
  check(!token || new URL(link).searchParams.get("token") === token, "the token left the URL: " + link);
  ok("the URL holds the view (" + hash + ")");
  const page2 = await context.newPage();
  page2.on("pageerror", (e) => errors.push(String(e)));
  await page2.goto(link);
  await expectRows(page2, "a link opens the same view", [START[2]]);
  const controls = await page2.evaluate(() => [
    document.getElementById("source").value, document.getElementById("kind").value,
    document.getElementById("search").value, document.getElementById("utc").checked,
    document.querySelector(".rec:not(.hidden) .time").textContent.endsWith("Z"),
    document.querySelector(".rec:not(.hidden) mark").textContent,
  ]);
  check(JSON.stringify(controls) === JSON.stringify(['"worker-2"', "problem", "vari", true, true, "vari"]),
        "the link restored " + JSON.stringify(controls));
  ok("its controls are restored (" + JSON.stringify(controls) + ")");
  await page2.close();
  // A source not seen yet is kept, and selected, until its records come.
  const page4 = await context.newPage();
  page4.on("pageerror", (e) => errors.push(String(e)));
  await page4.goto(pageUrl + "#source=later");
  await page4.waitForFunction(() => document.querySelectorAll(".rec").length >= 5, null, { timeout: WAIT_MS });
  await post(batch("wl", 1, "later", [line("late line")]));
  await expectRows(page4, "a link to a source not seen yet shows its records when they come",
                   [["later", "line", "late line"]]);
  await page4.close();
  ALL.push(["later", "line", "late line"]);
  await page.selectOption("#source", "");
  await page.selectOption("#kind", "");
  await page.uncheck("#utc");
  await page.fill("#search", "");
  await expectRows(page, "every record again", ALL);
  check(new URL(page.url()).hash === "", "the fragment of the default view: " + page.url());
  ok("the default view has no fragment");

  // Keys: / focuses the search, Escape clears it, space pauses (not when typing).
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("/");
  check(await page.evaluate(() => document.activeElement.id === "search"), "/ did not focus the search");
  await page.keyboard.type("boom / x");
  check((await page.inputValue("#search")) === "boom / x", "typed into the search: " + (await page.inputValue("#search")));
  check((await page.textContent("#pause")) === "pause", "a space typed in the search paused the page");
  await expectRows(page, "/ focuses the search; / and space type into it", []);
  await page.keyboard.press("Escape");
  check((await page.inputValue("#search")) === "", "Escape left the search " + (await page.inputValue("#search")));
  await expectRows(page, "Escape clears the search", ALL);
  await page.fill("#search", "boom");
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("Escape");
  await expectRows(page, "Escape clears the search outside the search field too", ALL);
  await page.keyboard.press(" ");
  await waitFor(page, "space pauses", () => document.getElementById("pause").textContent.startsWith("resume"));
  await page.keyboard.press(" ");
  await waitFor(page, "space resumes", () => document.getElementById("pause").textContent === "pause");

  // Pause: new records wait, counted; resume shows them.
  await page.click("#pause");
  await post(line("while paused"));
  await waitFor(page, "pause holds new records (button: resume (1 new))",
                () => document.getElementById("pause").textContent === "resume (1 new)");
  check((await page.$$(".rec")).length === ALL.length, "a record was shown while paused");
  await page.click("#pause");
  ALL.push(["", "line", "while paused"]);
  await expectRows(page, "resume shows what arrived while paused", ALL);

  // Download what the page received (what the filters show).
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: WAIT_MS }), page.click("#download")]);
  const text = fs.readFileSync(await download.path(), "utf8");
  const lines = text.trim().split("\n");
  check(download.suggestedFilename() === "syncstream.log" && / worker-3 error: Traceback$/.test(lines[3]) &&
        / - line: while paused$/.test(lines[lines.length - 1]),
        "download " + download.suggestedFilename() + ": " + JSON.stringify(text));
  ok("download saves the records (" + lines.length + " lines)");

  // Text is shown as text, never as markup: in a record, a source, the search
  // and the URL. The search holds characters special in a regular expression.
  const evil = ["<b>not bold</b> & <script>window.pwned=1</script> x()", '"><img src=x onerror="window.pwned=2">'];
  const evilSource = "<img src=x onerror=pwned=3>";
  await post(batch("evil", 1, evilSource, evil.map(line)));
  ALL.push([evilSource, "line", evil[0]], [evilSource, "line", evil[1]]);
  await expectRows(page, "markup in records and sources arrives", ALL);
  const shown = await page.evaluate(() => [
    document.querySelectorAll("img, b, .text script").length, window.pwned,
    document.querySelector(".rec:last-child .src").textContent,
    [...document.querySelectorAll(".rec .text")].slice(-2).map((s) => s.children.length),
    [...document.querySelectorAll("#source option")].pop().textContent,
  ]);
  check(JSON.stringify(shown) === JSON.stringify([0, undefined, evilSource, [0, 0], evilSource]),
        "markup was interpreted: " + JSON.stringify(shown));
  ok("record text and source names are shown as text, not HTML");
  await page.fill("#search", "x()");
  await expectRows(page, "a search with ( ) matches as text", [ALL[ALL.length - 2]]);
  await page.fill("#search", "");
  const page3 = await context.newPage();
  page3.on("pageerror", (e) => errors.push(String(e)));
  await page3.goto(pageUrl + "#q=" + encodeURIComponent('<img src=x onerror="window.pwned=2">'));
  await expectRows(page3, "a search from the URL with markup", [ALL[ALL.length - 1]]);
  const fromUrl = await page3.evaluate(() => [
    document.querySelectorAll("img").length, window.pwned, document.getElementById("search").value,
    document.querySelector(".rec:not(.hidden) mark").textContent,
  ]);
  check(JSON.stringify(fromUrl) === JSON.stringify([0, undefined, ...Array(2).fill('<img src=x onerror="window.pwned=2">')]),
        "a search from the URL: " + JSON.stringify(fromUrl));
  ok("a search from the URL is text too, and highlighted");
  await page3.close();

  // Jump to newest: once the user has scrolled up, new records do not move the
  // view; a button says how many came and goes to them.
  const many = [];
  for (let i = 1; i <= 150; i++) many.push(line("bulk line " + i));
  await post(batch("bulk", 1, "bulk", many));
  await waitFor(page, "a long log follows its newest line",
                (n) => document.querySelectorAll(".rec").length === n &&
                  window.innerHeight + window.scrollY >= document.body.scrollHeight - 40 &&
                  document.getElementById("newest").classList.contains("hidden"),
                ALL.length + 150);
  await page.evaluate(() => window.scrollTo(0, 0));
  await waitFor(page, "scrolled up, jump to newest is offered",
                () => !document.getElementById("newest").classList.contains("hidden"));
  await post(batch("bulk", 2, "bulk", [line("one more")]));
  await waitFor(page, "a new record keeps the view where it is and is counted on the button",
                () => document.getElementById("newest").textContent === "jump to newest (1 new)");
  check((await page.evaluate(() => window.scrollY)) === 0, "the view moved");
  await page.click("#newest");
  await waitFor(page, "jump to newest scrolls to the newest record and the button goes",
                () => window.innerHeight + window.scrollY >= document.body.scrollHeight - 40 &&
                  document.getElementById("newest").classList.contains("hidden"));

  check(foreign.length === 0, "the page asked for other addresses: " + foreign.join(" "));
  ok("the page loads nothing from elsewhere");
  await page.fill("#search", "in");
  await page.evaluate(() => window.scrollTo(0, 0));
  await finish(page, errors, "web_page", shots);
}

// stderr lines and exit records as the server stores them: two commands sent
// with `syncstream send URL -- CMD` (its stderr flagged, then an exit record),
// one failing, one succeeding, shown by a page opened after clearing the
// buffer so that the counts are theirs only.
async function sendRecordsPage(browser, shots) {
  const r = await fetch(route, { method: "DELETE", headers });
  check(r.status === 200, "DELETE answered " + r.status + ": " + (await r.text()));
  const auth = tokenFile ? ["--token-file", tokenFile] : [];
  const send = (cmd) =>
    spawnSync(tool, ["send", "--source", "job", ...auth, route, "--", "sh", "-c", cmd],
              { encoding: "utf8", timeout: WAIT_MS });
  // "out" is written before "oops <i>", so send reads it first: the order is fixed.
  const bad = send("echo out; echo 'oops <i>' >&2; exit 3");
  check(bad.status === 3, "send of the failing command exited with " + bad.status + ": " + bad.stderr);
  const good = send("echo fine");
  check(good.status === 0, "send of the succeeding command exited with " + good.status + ": " + good.stderr);
  const context = await browser.newContext({ timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(pageUrl);
  const want = [["job", "line", "out"], ["job", "line", "oops <i>"], ["job", "error", "exited with status 3"],
                ["job", "line", "fine"], ["job", "line", "exited with status 0"]];
  await expectRows(page, "the records send posted are shown", want);
  const look = await page.$$eval(".rec", (rows) => rows.map((d) => ({
    cls: d.className, chan: d.querySelector(".chan").textContent, markup: d.querySelector(".text").children.length,
    bg: getComputedStyle(d).backgroundColor, colour: getComputedStyle(d.querySelector(".text")).color,
  })));
  const [out, err, failed, fine, exited] = look;
  check(/\bstderr\b/.test(err.cls) && err.chan === "err" && err.colour !== out.colour && !/stderr/.test(out.cls) &&
        out.chan === "" && !/stderr/.test(fine.cls),
        "the stderr line is not marked apart: " + JSON.stringify([out, err, fine]));
  ok("a stderr line is marked (" + err.chan + ", " + err.colour + " beside " + out.colour + ")");
  check(err.markup === 0, "the stderr line's <i> became markup: " + JSON.stringify(err));
  ok("its text is shown as text");
  check(/\bfailed\b/.test(failed.cls) && failed.bg === "rgb(198, 40, 40)" && failed.chan === "exit",
        "the failed exit record is not red: " + JSON.stringify(failed));
  ok("an exit record with a non-zero status is red (" + failed.bg + ")");
  check(!/failed/.test(exited.cls) && exited.bg === fine.bg && exited.chan === "exit",
        "the exit record with status 0: " + JSON.stringify(exited));
  ok("an exit record with status 0 is not");
  const counts = await page.textContent("#counts");
  check(/^5 records.*1 errors.*1 stderr$/.test(counts), "counts: " + counts);
  ok("counts: " + counts);
  await page.selectOption("#kind", "stderr");
  await expectRows(page, "the kind filter shows stderr lines", [want[1]]);
  await page.selectOption("#kind", "error");
  await expectRows(page, "the kind filter's errors include a failed exit", [want[2]]);
  await page.selectOption("#kind", "");
  await finish(page, errors, "web_page-send", shots);
}

async function main() {
  fs.mkdirSync(shotDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run"],
  });
  const shots = [];
  try {
    await mainPage(browser, shots);
    await sendRecordsPage(browser, shots);
  } finally {
    await browser.close();
    for (const s of shots) console.log("screenshot: " + s);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.log("FAIL " + e.message);
    process.exit(1);
  }
);
