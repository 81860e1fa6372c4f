/*
 * GET /: one self-contained page (inline CSS and JavaScript, no external asset)
 * that shows the buffer live through ROUTE-events. It keeps the newest records
 * on screen, marks warnings and errors, filters by source, pauses (new records
 * wait, counted) and resumes, and downloads what it received as a text file.
 * With a token, open it as /?token=TOKEN: the page passes the token on to
 * EventSource, which cannot set headers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/server_int.h"

#define ROUTE_MARK "@ROUTE@"

static const char page_template[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>syncstream</title>\n"
    "<style>\n"
    "body{margin:0;font:14px/1.4 system-ui,sans-serif;background:#fafafa;color:#222}\n"
    "header{position:sticky;top:0;display:flex;flex-wrap:wrap;gap:.6em;align-items:center;"
    "padding:.5em 1em;background:#263238;color:#eceff1}\n"
    "header h1{font-size:1.1em;margin:0 1em 0 0}\n"
    "header button,header select{font:inherit}\n"
    "#status{padding:.1em .5em;border-radius:3px;background:#455a64}\n"
    "#status.live{background:#2e7d32}#status.down{background:#c62828}\n"
    "#counts span{margin-left:.6em}\n"
    "#log{font:13px/1.35 ui-monospace,monospace;padding:.5em 1em;white-space:pre-wrap;"
    "word-break:break-all}\n"
    ".rec{display:flex;gap:.8em;padding:0 .3em;border-left:4px solid transparent}\n"
    ".rec .seq{color:#90a4ae;min-width:4em;text-align:right}\n"
    ".rec .src{color:#1565c0;min-width:7em}\n"
    ".rec.warning{background:#fff8e1;border-left-color:#f9a825;color:#6d4c00}\n"
    ".rec.error{background:#ffebee;border-left-color:#c62828;color:#8e0000;font-weight:600}\n"
    ".notice{color:#6a1b9a;font-style:italic}\n"
    ".hidden{display:none}\n"
    "</style></head>\n"
    "<body>\n"
    "<header><h1>syncstream</h1>\n"
    "<span id=\"status\">connecting</span>\n"
    "<label>source <select id=\"source\"><option value=\"\">all sources</option></select>"
    "</label>\n"
    "<button id=\"pause\" type=\"button\">pause</button>\n"
    "<button id=\"download\" type=\"button\">download</button>\n"
    "<span id=\"counts\"><span id=\"n-records\">0 records</span>"
    "<span id=\"n-warnings\">0 warnings</span><span id=\"n-errors\">0 errors</span></span>\n"
    "</header>\n"
    "<main id=\"log\" aria-live=\"polite\"></main>\n"
    "<script>\n"
    "\"use strict\";\n"
    "const ROUTE = \"" ROUTE_MARK "\";\n"
    "const KEEP_ON_SCREEN = 5000, KEEP_FOR_DOWNLOAD = 100000;\n"
    "const log = document.getElementById(\"log\");\n"
    "const statusEl = document.getElementById(\"status\");\n"
    "const sourceSel = document.getElementById(\"source\");\n"
    "const pauseBtn = document.getElementById(\"pause\");\n"
    "const received = [];   // every record received, for download (bounded)\n"
    "const pending = [];    // received while paused\n"
    "const sources = new Set();\n"
    "const counts = {line: 0, warning: 0, error: 0};\n"
    "let paused = false;\n"
    "\n"
    "function atBottom() {\n"
    "  return window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;\n"
    "}\n"
    "function shown(r) { return !sourceSel.value || sourceSel.value === r.source; }\n"
    "function row(r) {\n"
    "  const d = document.createElement(\"div\");\n"
    "  d.className = \"rec \" + r.kind;\n"
    "  d.dataset.source = r.source;\n"
    "  d.dataset.seq = r.seq;\n"
    "  for (const [cls, text] of [[\"seq\", r.seq], [\"src\", r.source], [\"text\", r.text]]) {\n"
    "    const s = document.createElement(\"span\");\n"
    "    s.className = cls;\n"
    "    s.textContent = text;\n"
    "    d.appendChild(s);\n"
    "  }\n"
    "  if (!shown(r)) d.classList.add(\"hidden\");\n"
    "  return d;\n"
    "}\n"
    "function show(batch) {\n"
    "  const follow = atBottom();\n"
    "  const frag = document.createDocumentFragment();\n"
    "  for (const r of batch) frag.appendChild(row(r));\n"
    "  log.appendChild(frag);\n"
    "  while (log.childElementCount > KEEP_ON_SCREEN) log.firstElementChild.remove();\n"
    "  if (follow) window.scrollTo(0, document.body.scrollHeight);\n"
    "}\n"
    "function notice(text) {\n"
    "  const d = document.createElement(\"div\");\n"
    "  d.className = \"notice\";\n"
    "  d.textContent = text;\n"
    "  log.appendChild(d);\n"
    "}\n"
    "function updateCounts() {\n"
    "  document.getElementById(\"n-records\").textContent = received.length + \" records\";\n"
    "  document.getElementById(\"n-warnings\").textContent = counts.warning + \" warnings\";\n"
    "  document.getElementById(\"n-errors\").textContent = counts.error + \" errors\";\n"
    "  pauseBtn.textContent = paused ? \"resume (\" + pending.length + \" new)\" : \"pause\";\n"
    "}\n"
    "function receive(r) {\n"
    "  received.push(r);\n"
    "  if (received.length > KEEP_FOR_DOWNLOAD) received.shift();\n"
    "  counts[r.kind] = (counts[r.kind] || 0) + 1;\n"
    "  if (!sources.has(r.source)) {\n"
    "    sources.add(r.source);\n"
    "    const o = document.createElement(\"option\");\n"
    "    o.value = r.source;\n"
    "    o.textContent = r.source === \"\" ? \"(no name)\" : r.source;\n"
    "    sourceSel.appendChild(o);\n"
    "  }\n"
    "  if (paused) pending.push(r); else show([r]);\n"
    "  updateCounts();\n"
    "}\n"
    "sourceSel.addEventListener(\"change\", () => {\n"
    "  for (const d of log.querySelectorAll(\".rec\"))\n"
    "    d.classList.toggle(\"hidden\", !!sourceSel.value && d.dataset.source !== sourceSel.value);\n"
    "});\n"
    "pauseBtn.addEventListener(\"click\", () => {\n"
    "  paused = !paused;\n"
    "  if (!paused) show(pending.splice(0));\n"
    "  updateCounts();\n"
    "});\n"
    "document.getElementById(\"download\").addEventListener(\"click\", () => {\n"
    "  const lines = received.filter(shown).map(r =>\n"
    "    new Date(r.time_ns / 1e6).toISOString() + \" \" + (r.source || \"-\") + \" \" +\n"
    "    r.kind + \": \" + r.text);\n"
    "  const a = document.createElement(\"a\");\n"
    "  a.href = URL.createObjectURL(new Blob([lines.join(\"\\n\") + \"\\n\"], {type: \"text/plain\"}));\n"
    "  a.download = \"syncstream.log\";\n"
    "  document.body.appendChild(a);\n"
    "  a.click();\n"
    "  a.remove();\n"
    "});\n"
    "const token = new URLSearchParams(location.search).get(\"token\");\n"
    "const events = new EventSource(ROUTE + \"-events\" +\n"
    "  (token ? \"?token=\" + encodeURIComponent(token) : \"\"));\n"
    "events.addEventListener(\"open\", () => {\n"
    "  statusEl.textContent = \"live\";\n"
    "  statusEl.className = \"live\";\n"
    "});\n"
    "events.addEventListener(\"error\", () => {\n"
    "  statusEl.textContent = \"reconnecting\";\n"
    "  statusEl.className = \"down\";\n"
    "});\n"
    "events.addEventListener(\"record\", ev => receive(JSON.parse(ev.data)));\n"
    "events.addEventListener(\"missed\", ev => {\n"
    "  notice(JSON.parse(ev.data).missed + \" records rotated out before they could be shown\");\n"
    "});\n"
    "</script>\n"
    "</body></html>\n";

int ss__host_page_build(const char *route, char **ret, size_t *ret_len)
{
    const char *mark = strstr(page_template, ROUTE_MARK);
    size_t head = (size_t)(mark - page_template);
    size_t mark_len = strlen(ROUTE_MARK);
    size_t tail = sizeof(page_template) - 1 - head - mark_len;
    size_t rlen = strlen(route);
    char *page = malloc(head + rlen + tail + 1);
    if (!page)
        return -ENOMEM;
    memcpy(page, page_template, head);
    memcpy(page + head, route, rlen);
    memcpy(page + head + rlen, mark + mark_len, tail + 1);
    *ret = page;
    *ret_len = head + rlen + tail;
    return 0;
}
