/* SPDX-License-Identifier: MIT */
/*
 * GET /ui: the status page. One self-contained HTML page (no external assets) that reads
 * /stats every 2 s and shows the nodes (temperature, RAM, CPU, loaded models, in flight
 * against capacity, eligible or why not), the queue depth, the counters and the last answers
 * the workers reported. With
 * --http-token the page takes the token from #token=T (or ?token=T, which also lets it load)
 * and sends it as a bearer header. Data goes into the page as text, never as markup.
 */
#include "gateway_int.h"

#include <string.h>

static const char page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>ORION inference</title>\n"
    "<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}\n"
    "h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.05em;margin:1em 0 0}\n"
    "table{border-collapse:collapse;margin:.8em 0;background:#fff}\n"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
    "th{background:#eee}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".ok{color:#06702a;font-weight:600}.no{color:#b00020;font-weight:600}\n"
    "#status{color:#666}#err{color:#b00020}\n"
    ".cards span{display:inline-block;margin:0 1.2em .3em 0}\n"
    ".cards b{font-size:1.2em}\n"
    "</style></head>\n"
    "<body>\n"
    "<h1>ORION inference <span id=\"router\"></span></h1>\n"
    "<div id=\"status\">loading&hellip;</div><div id=\"err\"></div>\n"
    "<div class=\"cards\">\n"
    "<span>queue depth <b id=\"queue\">-</b></span>\n"
    "<span>eligible nodes <b id=\"eligible\">-</b></span>\n"
    "<span>redis <b id=\"redis\">-</b></span>\n"
    "</div>\n"
    "<table id=\"nodes\"><thead><tr><th>node</th><th>state</th><th>temp &deg;C</th>"
    "<th>RAM %</th><th>CPU %</th><th>in flight / capacity</th><th>routed</th>"
    "<th>loaded models</th></tr></thead><tbody></tbody></table>\n"
    "<table id=\"counters\"><thead><tr><th>counter</th><th>value</th></tr></thead>"
    "<tbody></tbody></table>\n"
    "<h2>recent requests</h2>\n"
    "<table id=\"recent\"><thead><tr><th>request</th><th>model</th><th>node</th>"
    "<th>outcome</th><th>total ms</th><th>answered</th></tr></thead><tbody></tbody></table>\n"
    "<script>\n";

/* (two strings: C99 promises string literals of 4095 bytes, no more) */
static const char script[] =
    "'use strict';\n"
    "var token = '';\n"
    "(function () {\n"
    "  var m = /(?:^|[#&])token=([^&]*)/.exec(location.hash) ||\n"
    "          /(?:^|[?&])token=([^&]*)/.exec(location.search);\n"
    "  if (m) token = decodeURIComponent(m[1]);\n"
    "})();\n"
    "function el(tag, text, cls) {\n"
    "  var e = document.createElement(tag);\n"
    "  if (text !== undefined && text !== null) e.textContent = String(text);\n"
    "  if (cls) e.className = cls;\n"
    "  return e;\n"
    "}\n"
    "function num(v) { return v === null || v === undefined ? '-' : v.toFixed(1); }\n"
    "function set(id, v) { document.getElementById(id).textContent = String(v); }\n"
    "function render(s) {\n"
    "  set('router', s.router ? '(' + s.router + ')' : '');\n"
    "  set('queue', s.queue_depth);\n"
    "  set('eligible', s.eligible + ' / ' + s.nodes.length);\n"
    "  set('redis', s.redis ? 'up' : 'down');\n"
    "  var tb = document.querySelector('#nodes tbody');\n"
    "  while (tb.firstChild) tb.removeChild(tb.firstChild);\n"
    "  s.nodes.forEach(function (n) {\n"
    "    var tr = el('tr');\n"
    "    tr.id = 'node-' + n.node;\n"
    "    tr.appendChild(el('td', n.node));\n"
    "    tr.appendChild(n.eligible ? el('td', 'eligible', 'ok') : el('td', n.reason, 'no'));\n"
    "    tr.appendChild(el('td', num(n.temp_c), 'num'));\n"
    "    tr.appendChild(el('td', num(n.ram_percent), 'num'));\n"
    "    tr.appendChild(el('td', num(n.cpu_percent), 'num'));\n"
    "    tr.appendChild(el('td', n.inflight + ' / ' + n.capacity, 'num'));\n"
    "    tr.appendChild(el('td', n.routed, 'num'));\n"
    "    tr.appendChild(el('td', n.models.join(', ')));\n"
    "    tb.appendChild(tr);\n"
    "  });\n"
    "  var cb = document.querySelector('#counters tbody');\n"
    "  while (cb.firstChild) cb.removeChild(cb.firstChild);\n"
    "  Object.keys(s.counters).forEach(function (k) {\n"
    "    var tr = el('tr');\n"
    "    tr.appendChild(el('td', k));\n"
    "    tr.appendChild(el('td', s.counters[k], 'num'));\n"
    "    cb.appendChild(tr);\n"
    "  });\n"
    "  var rb = document.querySelector('#recent tbody');\n"
    "  while (rb.firstChild) rb.removeChild(rb.firstChild);\n"
    "  (s.recent || []).forEach(function (x) {\n"
    "    var tr = el('tr');\n"
    "    tr.appendChild(el('td', x.request_id));\n"
    "    tr.appendChild(el('td', x.model));\n"
    "    tr.appendChild(el('td', x.node));\n"
    "    tr.appendChild(el('td', x.outcome, x.outcome === 'ok' ? 'ok' : 'no'));\n"
    "    tr.appendChild(el('td', x.total_ms === null ? '-' : x.total_ms, 'num'));\n"
    "    tr.appendChild(el('td', new Date(x.at * 1000).toLocaleTimeString()));\n"
    "    rb.appendChild(tr);\n"
    "  });\n"
    "  set('status', 'updated ' + new Date().toLocaleTimeString() + ', every 2 s');\n"
    "  set('err', '');\n"
    "}\n"
    "function tick() {\n"
    "  var h = token ? {'Authorization': 'Bearer ' + token} : {};\n"
    "  fetch('/stats', {headers: h, cache: 'no-store'}).then(function (r) {\n"
    "    if (!r.ok) throw new Error('/stats: HTTP ' + r.status +\n"
    "        (r.status === 401 ? ' (open /ui#token=TOKEN)' : ''));\n"
    "    return r.json();\n"
    "  }).then(render).catch(function (e) { set('err', e.message); });\n"
    "}\n"
    "tick();\n"
    "setInterval(tick, 2000);\n"
    "</script>\n"
    "</body></html>\n";

void gw_ui(struct httpd_req *hr)
{
    static char body[sizeof(page) + sizeof(script)];
    static size_t len;
    static const char *const headers[] = {
        "Content-Type: text/html; charset=utf-8", "Cache-Control: no-store",
        "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; connect-src 'self'",
        NULL};

    if (!len) {
        memcpy(body, page, sizeof(page) - 1);
        memcpy(body + sizeof(page) - 1, script, sizeof(script) - 1);
        len = sizeof(page) + sizeof(script) - 2;
    }
    httpd_respond(hr, 200, headers, body, len);
}
