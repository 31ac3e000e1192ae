/* SPDX-License-Identifier: MIT */
/*
 * GET /ui: the status page. One self-contained HTML page (no external assets) that reads
 * /stats every 2 s and shows the nodes (eligible or why not, temperature, RAM, CPU, requests
 * running against the node's slots and queued behind them, routed, models loaded and being
 * loaded), each node's and each of its models' answers, errors, requests in flight, latency
 * and time to first token (/stats' backend_stats), the requests waiting in the router, the
 * last answers the workers reported and the counters. Below 700 px wide each table row becomes a card of labelled lines, so a phone
 * never scrolls sideways. With
 * --http-token the page takes the token from #token=T (or ?token=T, which also lets it load)
 * and sends it as a bearer header. Data goes into the page as text, never as markup.
 */
#include "gateway_int.h"

#include <string.h>

/* (five strings: C99 promises string literals of 4095 bytes, no more) */
static const char head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>ORION inference</title>\n"
    "<style>\n"
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:1em 1.5em;color:#222;background:#fafafa}\n"
    "h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.05em;margin:1.2em 0 0}\n"
    "table{border-collapse:collapse;margin:.6em 0;background:#fff;max-width:100%}\n"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere}\n"
    "th{background:#eee;font-weight:600}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".ok{color:#06702a;font-weight:600}.no{color:#b00020;font-weight:600}\n"
    ".warn{color:#8a5a00;font-weight:600}.dead{color:#666;font-weight:600}\n"
    "#status{color:#666}#err{color:#b00020}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:.3em 1.4em;margin:.4em 0}\n"
    ".cards b{font-size:1.2em}.cards .busy{color:#8a5a00}\n"
    ".m{display:inline-block;margin:0 .3em .15em 0;padding:0 .35em;border-radius:3px;background:#e8eef8}\n"
    ".m.loading{background:#fff3d6;color:#8a5a00;font-style:italic}\n"
    ".busy{color:#8a5a00;font-weight:600}\n"
    "tr.stale td{color:#888}tr.stale .m{background:#eee}\n"
    "@media (max-width:700px){\n"
    "body{padding:.6em .7em}\n"
    "table,thead,tbody,tr,td{display:block;width:100%}\n"
    "thead{display:none}\n"
    "table{border:0;background:none}\n"
    "tr{background:#fff;border:1px solid #ccc;border-radius:6px;margin:0 0 .7em;padding:.3em .5em}\n"
    "td{border:0;border-bottom:1px solid #eee;padding:.2em 0 .2em 42%;position:relative;min-height:1.6em;text-align:left}\n"
    "td.num{text-align:left;white-space:normal}\n"
    "td:last-child{border-bottom:0}\n"
    "#nodes td:first-child{padding-left:0;font-weight:600;font-size:1.1em}\n"
    "#nodes td:first-child::before{content:none}\n"
    "td::before{content:attr(data-label);position:absolute;left:0;width:40%;color:#666;font-weight:400;overflow-wrap:anywhere}\n"
    "#counters tbody{display:flex;flex-wrap:wrap;gap:0 .8em}\n"
    "#counters tr{display:flex;width:auto;margin:0 0 .3em;padding:.1em .4em;border-radius:4px}\n"
    "#counters td{width:auto;padding:0 .3em;border:0;min-height:0}\n"
    "#counters td::before{content:none}\n"
    "}\n"
    "</style></head>\n";

static const char body[] =
    "<body>\n"
    "<h1>ORION inference <span id=\"router\"></span></h1>\n"
    "<div id=\"status\">loading&hellip;</div><div id=\"err\"></div>\n"
    "<div class=\"cards\">\n"
    "<span>waiting in the router <b id=\"queue\">-</b></span>\n"
    "<span>eligible nodes <b id=\"eligible\">-</b></span>\n"
    "<span>redis <b id=\"redis\">-</b></span>\n"
    "</div>\n"
    "<table id=\"nodes\"><thead><tr><th>node</th><th>state</th><th>temp &deg;C</th>\n"
    "<th>RAM %</th><th>CPU %</th><th>running / slots</th><th>queued</th><th>routed</th>\n"
    "<th>models</th></tr></thead><tbody></tbody></table>\n"
    "<h2>latency by backend</h2>\n"
    "<table id=\"latency\"><thead><tr><th>node</th><th>model</th><th>in flight</th>\n"
    "<th>answered</th><th>errors</th><th>latency mean ms</th><th>latency p50 ms</th>\n"
    "<th>latency p95 ms</th><th>first token p50 ms</th><th>first token p95 ms</th></tr>\n"
    "</thead><tbody></tbody></table>\n"
    "<h2>recent requests</h2>\n"
    "<table id=\"recent\"><thead><tr><th>request</th><th>model</th><th>node</th>\n"
    "<th>outcome</th><th>total ms</th><th>answered</th></tr></thead><tbody></tbody></table>\n"
    "<h2>counters</h2>\n"
    "<table id=\"counters\"><thead><tr><th>counter</th><th>value</th></tr></thead>\n"
    "<tbody></tbody></table>\n"
    "<script>\n";

static const char script1[] =
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
    "function body(id) {\n"
    "  var tb = document.querySelector('#' + id + ' tbody');\n"
    "  while (tb.firstChild) tb.removeChild(tb.firstChild);\n"
    "  return tb;\n"
    "}\n"
    "/* each cell is labelled with its column's head, shown before it on a narrow screen */\n"
    "function add(tb, cells) {\n"
    "  var heads = tb.parentNode.querySelectorAll('thead th'), tr = el('tr');\n"
    "  cells.forEach(function (c, i) {\n"
    "    if (heads[i] && cells.length > 1) c.setAttribute('data-label', heads[i].textContent);\n"
    "    tr.appendChild(c);\n"
    "  });\n"
    "  tb.appendChild(tr);\n"
    "  return tr;\n"
    "}\n"
    "function state(n) {\n"
    "  if (n.eligible) return el('td', 'eligible', 'ok');\n"
    "  /* whole seconds: the router gives the exact age */\n"
    "  var r = (n.reason || 'not eligible').replace(/^(stale: last seen )([0-9.]+)/,\n"
    "      function (m, a, x) { return a + Math.round(Number(x)); });\n"
    "  if (/^draining/.test(r)) return el('td', r, 'warn');\n"
    "  if (/^stale/.test(r)) return el('td', r, 'dead');\n"
    "  return el('td', r, 'no');\n"
    "}\n"
    "function models(n) {\n"
    "  var td = el('td');\n"
    "  (n.models || []).forEach(function (m) { td.appendChild(el('span', m, 'm')); });\n"
    "  (n.loading || []).forEach(function (m) {\n"
    "    td.appendChild(el('span', m + ' loading', 'm loading'));\n"
    "  });\n"
    "  if (!td.firstChild) td.textContent = '-';\n"
    "  return td;\n"
    "}\n";

static const char script2[] =
    "/* the routing kinds by the names of the routed events (queued: behind a busy node) */\n"
    "var names = {queued: 'queued-resident', waiting_peak: 'waiting peak', bad_requests: 'bad requests'};\n"
    "function render(s) {\n"
    "  set('router', s.router ? '(' + s.router + ')' : '');\n"
    "  set('queue', s.queue_depth);\n"
    "  document.getElementById('queue').className = s.queue_depth > 0 ? 'busy' : '';\n"
    "  set('eligible', s.eligible + ' / ' + s.nodes.length);\n"
    "  set('redis', s.redis ? 'up' : 'down');\n"
    "  var tb = body('nodes');\n"
    "  s.nodes.slice().sort(function (a, b) { return a.node < b.node ? -1 : a.node > b.node; })\n"
    "   .forEach(function (n) {\n"
    "    var run = n.running === undefined ? n.inflight : n.running;\n"
    "    var q = n.queued || 0;\n"
    "    add(tb, [el('td', n.node), state(n), el('td', num(n.temp_c), 'num'),\n"
    "             el('td', num(n.ram_percent), 'num'), el('td', num(n.cpu_percent), 'num'),\n"
    "             el('td', run + ' / ' + n.capacity, 'num'), el('td', q, q > 0 ? 'num busy' : 'num'),\n"
    "             el('td', n.routed, 'num'), models(n)]);\n"
    "    tb.lastChild.id = 'node-' + n.node;\n"
    "    if (/^stale/.test(n.reason)) tb.lastChild.className = 'stale';\n"
    "  });\n"
    "  var rb = body('recent');\n"
    "  (s.recent || []).forEach(function (x) {\n"
    "    add(rb, [el('td', x.request_id), el('td', x.model), el('td', x.node),\n"
    "             el('td', x.outcome, x.outcome === 'ok' ? 'ok' : 'no'),\n"
    "             el('td', x.total_ms === null ? '-' : x.total_ms, 'num'),\n"
    "             el('td', new Date(x.at * 1000).toLocaleTimeString())]);\n"
    "  });\n"
    "  if (!rb.firstChild) add(rb, [el('td', 'none yet')]).firstChild.colSpan = 6;\n"
    "  var cb = body('counters');\n"
    "  Object.keys(s.counters).forEach(function (k) {\n"
    "    add(cb, [el('td', names[k] || k), el('td', s.counters[k], 'num')]);\n"
    "  });\n"
    "  latency(s);\n"
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
    "setInterval(tick, 2000);\n";

/* The latency table: one row per node (all its models), then one per model it answered. */
static const char script3[] =
    "function lat(tb, node, model, x) {\n"
    "  var l = x.latency_ms || {}, f = x.first_token_ms || {};\n"
    "  add(tb, [el('td', node), el('td', model), el('td', x.inflight, 'num'),\n"
    "           el('td', x.answered, 'num'), el('td', x.errors, x.errors > 0 ? 'num busy' : 'num'),\n"
    "           el('td', num(l.mean), 'num'), el('td', num(l.p50), 'num'),\n"
    "           el('td', num(l.p95), 'num'), el('td', num(f.p50), 'num'),\n"
    "           el('td', num(f.p95), 'num')]);\n"
    "  tb.lastChild.id = 'lat-' + node + (model === 'all' ? '' : '/' + model);\n"
    "}\n"
    "function latency(s) {\n"
    "  var tb = body('latency');\n"
    "  (s.backend_stats || []).slice()\n"
    "   .sort(function (a, b) { return a.node < b.node ? -1 : a.node > b.node; })\n"
    "   .forEach(function (x) {\n"
    "    lat(tb, x.node, 'all', x);\n"
    "    (x.models || []).forEach(function (m) { lat(tb, x.node, m.model, m); });\n"
    "  });\n"
    "  if (!tb.firstChild) add(tb, [el('td', 'no node yet')]).firstChild.colSpan = 10;\n"
    "}\n"
    "</script>\n"
    "</body></html>\n";

void gw_ui(struct httpd_req *hr)
{
    static const char *const parts[] = {head, body, script1, script2, script3};
    static char page[sizeof(head) + sizeof(body) + sizeof(script1) + sizeof(script2) +
                     sizeof(script3)];
    static size_t len;
    static const char *const headers[] = {
        "Content-Type: text/html; charset=utf-8", "Cache-Control: no-store",
        "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; connect-src 'self'",
        NULL};

    if (!len) {
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            size_t n = strlen(parts[i]);

            memcpy(page + len, parts[i], n);
            len += n;
        }
    }
    httpd_respond(hr, 200, headers, page, len);
}
