// app.js - the page of stack serve: every view is a documented API call (spec/api.md); live updates come from
// GET /events (server-sent events), and each event re-reads what it may have changed. No framework, no build.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { runs: [], requests: [], stacks: [], snapshots: [], alerts: [], usage: {}, progress: {}, logsRun: null,
  logsAbort: null };
const USAGE_KEPT = 150; // samples of each run kept for its sparkline (SSE "usage" every 2 s: the last 5 minutes)

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function age(t) {
  if (!t) return "";
  const s = Math.max(0, Math.floor(Date.now() / 1000 - t));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h";
  return Math.floor(s / 86400) + " d";
}

function size(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}

function showError(msg) {
  const e = $("error");
  e.textContent = msg;
  e.hidden = !msg;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  let r;
  for (let i = 1; ; i++) { // a network error (the machine's interfaces changing) is tried again, twice
    try { r = await fetch(path, opts); break; }
    catch (e) { if (i >= 3) throw e; await new Promise((ok) => setTimeout(ok, 400)); }
  }
  if (r.status === 401) { location.reload(); throw new Error("logged out"); }
  const type = r.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error((data && data.error) || r.status + " " + r.statusText);
  return data;
}

async function act(button, method, path, body) {
  button.disabled = true;
  try { await api(method, path, body); showError(""); }
  catch (e) { showError(e.message); }
  finally { button.disabled = false; refreshSoon(); }
}

// A table cell: its label (shown beside the value at a phone's width) and the value in one block.
function td(label, cls, ...children) {
  return el("td", { "data-label": label, class: cls }, el("div", { class: "v" }, ...children));
}

// ---- requests waiting for approval: each a card saying what approving it approves (GET /requests, spec/api.md)
// The stack's icon comes from the store through the daemon (GET /stacks/{slug}/icon), never from the network;
// without one (or when it does not load) the stack's initial stands in.
function icon(slug, has) {
  const initial = el("span", { class: "icon initial", "aria-hidden": "true" }, (slug[0] || "?").toUpperCase());
  if (!has) return initial;
  const img = el("img", { class: "icon", alt: "", src: "/stacks/" + encodeURIComponent(slug) + "/icon" });
  img.addEventListener("error", () => img.replaceWith(initial));
  return img;
}

function bytes(n) { return n === null || n === undefined ? "size unknown" : size(n); }

function fact(label, ...value) {
  return el("div", { class: "fact" }, el("dt", {}, label), el("dd", {}, ...value));
}

function approvalFacts(q) {
  if (!q.in_store)
    return el("p", { class: "muted small" }, q.approval_error ? "What it asks for cannot be read: " + q.approval_error
      : "Not in the store yet: fetched from the catalog once approved, then checked.");
  const perms = q.permissions || [], lim = q.limits || {}, req = lim.requested || {};
  return el("dl", { class: "facts" },
    fact("Signed by", q.signer ? el("span", { class: "signer" }, q.signer, " ", el("code", { class: "fp" }, q.fingerprint || ""))
      : el("span", { class: "badge failed" }, q.insecure ? "unsigned (insecure)" : "unsigned")),
    fact("Permissions", perms.length ? perms.map((p) => el("span", { class: "chip perm" + (p.granted ? " granted" : " asked"),
      title: p.granted ? "granted to this stack already" : "not granted yet" }, p.name + (p.granted ? " \u2713" : "")))
      : el("span", { class: "muted" }, "none beyond the default sandbox")),
    fact("Images", (q.images || []).length ? el("ul", { class: "images" }, q.images.map((i) =>
      el("li", { class: "image" }, el("code", {}, i.ref), el("span", { class: "muted" }, " " + bytes(i.size) + ", "),
        el("span", { class: i.cached ? "ok" : "warn" }, i.cached ? "cached" : "to pull"))))
      : el("span", { class: "muted" }, "none named")),
    fact("Ports", (q.ports || []).length ? q.ports.map((p) => el("span", { class: "chip port" },
      p.service + " " + p.port + (p.label ? " (" + p.label + ")" : ""))) : el("span", { class: "muted" }, "none")),
    fact("Address", (q.addresses || []).length ? q.addresses.map((a) => el("code", { class: "addr" }, a)) : el("span", { class: "muted" }, "none")),
    fact("Limits", (lim.cpus ? lim.cpus + " CPU, " : "") + (lim.memory ? size(lim.memory) + " memory, " : "") +
      (lim.pids ? lim.pids + " processes" : "") + " per container",
      req.memory || req.cpus || req.pids ? el("span", { class: "muted small" }, " (the stack asks for " +
        [req.cpus && req.cpus + " CPU", req.memory && size(req.memory), req.pids && req.pids + " processes"].filter(Boolean).join(", ") + ")") : null),
    fact("In the store", size(q.size || 0) + (q.image_bytes ? ", registry images " + size(q.image_bytes) : "")));
}

function renderRequests() {
  const list = $("requests-list");
  list.replaceChildren(...state.requests.map((q) => {
    const who = q.who === "anonymous" ? "a website: " + (q.origin || "no origin") : "a token";
    return el("li", { class: "request", data: { request: q.id } },
      el("div", { class: "head" },
        icon(q.slug, q.icon),
        el("div", { class: "what" },
          q.name ? el("span", { class: "name" }, q.name) : null,
          el("strong", { class: "ref" }, q.ref),
          el("span", { class: "muted" }, " asked by " + who + ", " + age(q.requested_at) + " ago"),
          el("span", { class: "muted expires" }, "expires in " + age(2 * Date.now() / 1000 - q.expires_at))),
        el("div", { class: "buttons" },
          el("button", { type: "button", class: "approve", "aria-label": "Approve " + q.ref,
                         onclick: (ev) => act(ev.currentTarget, "POST", "/requests/" + q.id + "/approve") }, "Approve"),
          el("button", { type: "button", class: "deny ghost", "aria-label": "Deny " + q.ref,
                         onclick: (ev) => act(ev.currentTarget, "POST", "/requests/" + q.id + "/deny") }, "Deny"))),
      approvalFacts(q));
  }));
  $("requests-empty").hidden = state.requests.length > 0;
  $("requests-count").textContent = state.requests.length;
  $("requests-count").classList.toggle("hot", state.requests.length > 0);
}

// ---- alerts: GET /alerts, live from SSE "alert", Dismiss -> POST /alerts/{id}/dismiss
function renderAlerts() {
  const open = state.alerts.filter((a) => !a.dismissed_at);
  $("alerts-list").replaceChildren(...open.map((a) =>
    el("li", { class: "alert kind-" + a.kind, data: { alert: a.id } },
      el("div", { class: "what" },
        el("strong", {}, a.kind.replace(/-/g, " ")), el("span", {}, " in " + a.slug + (a.container ? " (" + a.container + ")" : "")),
        a.detail ? el("div", { class: "detail" }, a.detail) : null,
        el("div", { class: "muted small" }, a.at ? age(a.at / 1000) + " ago" : "")),
      el("button", { type: "button", class: "ghost dismiss", "aria-label": "Dismiss the " + a.kind + " alert of " + a.slug,
                     onclick: (ev) => dismiss(ev.currentTarget, a.id) }, "Dismiss"))));
  $("alerts-empty").hidden = open.length > 0;
  $("alerts-count").textContent = open.length;
  $("alerts-count").classList.toggle("hot", open.length > 0);
}

async function dismiss(button, id) {
  button.disabled = true;
  try {
    await api("POST", "/alerts/" + encodeURIComponent(id) + "/dismiss");
    state.alerts = state.alerts.filter((a) => a.id !== id);
    renderAlerts();
    showError("");
  } catch (e) { showError(e.message); button.disabled = false; }
}

function onAlert(a) {
  if (!a || !a.id) return;
  state.alerts = state.alerts.filter((x) => x.id !== a.id).concat([a]).sort((x, y) => y.at - x.at);
  renderAlerts();
}

// ---- runs
// The run's first address: from GET /runs, else the "running: ADDRESS" line its start said over /events, else
// its first published loopback port as http://127.0.0.1:PORT.
function address(run) {
  const a = (run.addresses || [])[0];
  const said = /^running: (https?:\/\/\S+)$/.exec(state.progress[run.slug] || "");
  let url = (a && a.url) || (said && said[1]);
  const m = !url && /^(127\.0\.0\.1|0\.0\.0\.0):(\d+)->/.exec(run.ports || "");
  if (m) url = "http://127.0.0.1:" + m[2];
  if (url && run.state === "running") return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
  return el("span", { class: "muted" }, url || "none");
}

function renderRuns() {
  const body = $("runs-body");
  body.replaceChildren(...state.runs.map((run) => {
    const up = ["running", "starting", "unhealthy", "restarting"].includes(run.state);
    const line = state.progress[run.slug];
    return el("tr", { data: { run: run.id, slug: run.slug } },
      td("Stack", null, el("strong", {}, run.slug), el("span", { class: "muted" }, " " + run.version)),
      td("State", null,
        el("span", { class: "badge state " + run.state, title: run.reason || "" }, run.state),
        run.health && run.health !== run.state ? el("span", { class: "badge health " + run.health, title: "health" }, run.health) : null,
        run.restarts ? el("span", { class: "restarts muted small" }, " " + run.restarts + " restart" + (run.restarts === 1 ? "" : "s")) : null,
        run.reason && run.state !== "running" ? el("div", { class: "reason muted" }, run.reason) : null,
        line && run.state === "starting" ? el("div", { class: "reason muted" }, line) : null),
      td("Use", "usage", usageCell(run)),
      td("Address", "address", address(run)),
      td("Ports", "ports", run.ports || el("span", { class: "muted" }, "none")),
      td("Age", null, age(run.started_at || run.created_at)),
      el("td", { class: "actions" }, el("div", { class: "acts" },
        el("button", { type: "button", class: "ghost logs", "aria-label": "Logs of " + run.slug,
                       onclick: () => openLogs(run) }, "Logs"),
        up ? el("button", { type: "button", class: "ghost stop", "aria-label": "Stop " + run.slug,
                            onclick: (ev) => act(ev.currentTarget, "POST", "/runs/" + run.id + "/stop") }, "Stop")
           : el("button", { type: "button", class: "ghost start", "aria-label": "Start " + run.slug,
                            onclick: (ev) => act(ev.currentTarget, "POST", "/runs/" + run.id + "/start") }, "Start"),
        el("button", { type: "button", class: "ghost danger remove", "aria-label": "Remove " + run.slug,
                       onclick: (ev) => {
                         if (confirm("Remove the run of " + run.slug + "? Its containers go; its data stays."))
                           act(ev.currentTarget, "DELETE", "/runs/" + run.id);
                       } }, "Remove"))));
  }));
  $("runs-table").hidden = state.runs.length === 0;
  $("runs-empty").hidden = state.runs.length > 0;
  $("runs-count").textContent = state.runs.length;
}

// ---- resource use: SSE "usage" {id, t, cpu_percent, mem_used, mem_limit} (every 2 s while the page listens),
// the last samples as a sparkline (inline SVG: nothing fetched), and the limits the run runs under
const SVG = "http://www.w3.org/2000/svg";
function sparkline(samples, key) {
  const w = 120, h = 28, svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", key === "cpu_percent" ? "CPU over the last minutes" : "memory over the last minutes");
  // the newest at the right edge; a short history is spread over at least 30 samples' width
  const top = Math.max(...samples.map((s) => (s[key] || 0) * 1.1), key === "cpu_percent" ? 5 : 1);
  const slot = w / (Math.max(samples.length, 30) - 1);
  const pts = samples.map((s, i) => {
    const x = w - (samples.length - 1 - i) * slot;
    return x.toFixed(1) + "," + (h - 1 - ((s[key] || 0) / top) * (h - 2)).toFixed(1);
  });
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", pts.join(" "));
  line.setAttribute("class", key === "cpu_percent" ? "cpu" : "mem");
  svg.append(line);
  return svg;
}

function usageCell(run) {
  const samples = state.usage[run.id] || [], u = samples[samples.length - 1] || run.usage, lim = run.limits;
  const limits = lim ? el("div", { class: "muted small limits" }, "limits: " + [lim.cpus && lim.cpus + " CPU",
    lim.memory && size(lim.memory), lim.pids && lim.pids + " processes"].filter(Boolean).join(", ")) : null;
  if (!u) return [el("span", { class: "muted" }, run.state === "running" ? "measuring..." : "-"), limits];
  return [el("div", { class: "now" }, el("span", { class: "cpu" }, (u.cpu_percent || 0).toFixed(1) + "% CPU"),
    el("span", { class: "mem" }, " " + size(u.mem_used || 0) + (u.mem_limit ? " / " + size(u.mem_limit) : ""))),
    samples.length ? el("div", { class: "sparks" }, sparkline(samples, "cpu_percent"), sparkline(samples, "mem_used")) : null,
    limits];
}

function onUsage(u) {
  if (!u || !u.id) return;
  const v = (state.usage[u.id] = state.usage[u.id] || []);
  v.push(u);
  if (v.length > USAGE_KEPT) v.splice(0, v.length - USAGE_KEPT);
  const run = state.runs.find((r) => r.id === u.id);
  const cell = document.querySelector('tr[data-run="' + CSS.escape(u.id) + '"] td.usage .v');
  if (run && cell) cell.replaceChildren(...usageCell(run).filter(Boolean)); // in place: focus elsewhere stays
}

// SSE "run" {id, slug, state, reason, health, restarts}: the row changes in place, nothing is read again
function onRun(ev) {
  const run = ev && state.runs.find((r) => r.id === ev.id);
  if (!run) { refreshSoon(); return; } // a run the page does not know yet
  for (const k of ["state", "reason", "health", "restarts"]) if (k in ev) run[k] = ev[k];
  renderRuns();
}

// ---- snapshots: GET /snapshots (newest first); "Take snapshot" per stack that has a run
function when(t) {
  const d = new Date(t * 1000), p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) +
    ":" + p(d.getSeconds());
}

async function takeSnapshot(button, slug) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if ($("snap-status")) $("snap-status").textContent = "Taking a snapshot of " + slug + "...";
  try {
    const s = await api("POST", "/stacks/" + encodeURIComponent(slug) + "/snapshot");
    showError("");
    if ($("snap-status")) $("snap-status").textContent = "Snapshot " + s.id + " of " + s.slug + " taken (" + size(s.size) + ").";
    await refreshSnapshots();
  } catch (e) {
    showError(e.message);
    if ($("snap-status")) $("snap-status").textContent = "";
  } finally { button.disabled = false; button.removeAttribute("aria-busy"); }
}

function renderSnapshots() {
  const slugs = [...new Set(state.runs.map((r) => r.slug))].sort();
  const take = $("snap-take");
  const have = new Set([...take.querySelectorAll("button")].map((b) => b.dataset.slug));
  if (slugs.length !== have.size || slugs.some((s) => !have.has(s))) { // rebuilt only when the stacks change (focus stays)
    take.replaceChildren(...slugs.map((slug) =>
      el("button", { type: "button", class: "ghost take", data: { slug }, "aria-label": "Take a snapshot of " + slug,
                     onclick: (ev) => takeSnapshot(ev.currentTarget, slug) },
        "Take snapshot", el("span", { class: "muted" }, " " + slug))),
      el("span", { id: "snap-status", class: "muted small", role: "status" }));
  }
  $("snapshots-body").replaceChildren(...state.snapshots.map((s) =>
    el("tr", { data: { snapshot: s.id, slug: s.slug } },
      td("Stack", null, el("strong", {}, s.slug), el("span", { class: "muted" }, " " + s.version)),
      td("Taken", null, el("time", { datetime: new Date(s.created_at * 1000).toISOString(), title: when(s.created_at) },
        age(s.created_at) + " ago"), el("div", { class: "muted small" }, when(s.created_at))),
      td("Reason", null, el("span", { class: "badge reason-" + s.reason }, s.reason)),
      td("Size", null, size(s.size), el("div", { class: "muted small" }, s.files + " file" + (s.files === 1 ? "" : "s"))),
      td("Volumes", "volumes", s.volumes || el("span", { class: "muted" }, "none")),
      td("ID", "snap-id", el("code", {}, s.id)))));
  $("snapshots-table").hidden = state.snapshots.length === 0;
  $("snapshots-empty").hidden = state.snapshots.length > 0;
  $("snapshots-empty").textContent = slugs.length ? "No snapshot yet." :
    "No snapshot yet. A stack that has a run can be snapshot here.";
  $("snapshots-count").textContent = state.snapshots.length;
}

// A snapshot taken in a terminal sends no event: the list is read again every few seconds.
async function refreshSnapshots() {
  try {
    state.snapshots = (await api("GET", "/snapshots")).snapshots;
    renderSnapshots();
  } catch (e) { showError(e.message); }
}

// ---- stacks
function renderStacks() {
  $("stacks-body").replaceChildren(...state.stacks.map((s) => {
    const signers = [...new Set(s.versions.map((v) => v.signer || (v.insecure ? "insecure (unsigned)" : "unsigned")))];
    const bytes = s.versions.reduce((n, v) => n + v.size, 0);
    const images = s.versions.reduce((n, v) => n + (v.image_bytes || 0), 0); // registry images kept (shared layers once per version)
    return el("tr", { data: { stack: s.slug } },
      td("Stack", null, el("strong", {}, s.name || s.slug),
        s.name && s.name !== s.slug ? el("span", { class: "muted" }, " " + s.slug) : null,
        s.description ? el("div", { class: "muted small" }, s.description) : null),
      td("Versions", null, s.versions.map((v) => el("span", { class: "chip" }, v.version))),
      td("Size", null, size(bytes), images ? el("div", { class: "muted small" }, "images " + size(images)) : null),
      td("Signed by", "signer", signers.join(", ")));
  }));
  $("stacks-table").hidden = state.stacks.length === 0;
  $("stacks-empty").hidden = state.stacks.length > 0;
  $("stacks-count").textContent = state.stacks.length;
}

// ---- logs: GET /runs/{id}/logs?follow=1 streams them as they come; without "follow", read once
async function loadLogs() {
  if (!state.logsRun) return;
  const run = state.logsRun, pre = $("logs-text"), follow = $("logs-follow").checked;
  if (state.logsAbort) state.logsAbort.abort();
  const ctl = new AbortController();
  state.logsAbort = ctl;
  pre.textContent = "reading...";
  try {
    const r = await fetch("/runs/" + run.id + "/logs" + (follow ? "?follow=1" : ""), { signal: ctl.signal });
    if (!r.ok) throw new Error(((await r.json().catch(() => ({}))).error) || r.status + " " + r.statusText);
    const reader = r.body.getReader(), dec = new TextDecoder();
    let first = true;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      if (first) { pre.textContent = ""; first = false; }
      pre.append(dec.decode(value, { stream: true }));
      if (atEnd || pre.textContent.length < 4096) pre.scrollTop = pre.scrollHeight;
    }
    if (first) pre.textContent = "(no output)";
  } catch (e) {
    if (e.name !== "AbortError") pre.append("\n[the logs stopped: " + e.message + "]");
  }
}

function openLogs(run) {
  state.logsRun = run;
  $("logs-h").textContent = "Logs of " + run.slug + " " + run.version;
  $("logs").hidden = false;
  loadLogs();
  $("logs").scrollIntoView({ block: "nearest" });
  $("logs-text").focus();
}

function closeLogs() {
  if (state.logsAbort) state.logsAbort.abort();
  state.logsRun = null;
  $("logs").hidden = true;
}

// ---- gc's dry run
async function checkGc(ev) {
  const b = ev.currentTarget;
  b.disabled = true;
  try {
    const g = await api("GET", "/gc");
    const w = g.would_remove;
    const nothing = !w.versions && !w.objects && !w.temp_files && !w.run_dirs;
    $("gc-report").replaceChildren(
      el("p", { class: "summary" }, nothing ? "Nothing to remove: every version is reached by a run, a pin or is among the newest " + g.keep + "."
        : "gc would remove " + w.versions + " version(s), " + w.trees + " tree(s), " + w.objects + " object(s) (" +
          size(w.object_bytes) + "), " + w.temp_files + " temp file(s) (" + size(w.temp_bytes) + ") and " + w.run_dirs + " run dir(s)."),
      el("p", { class: "muted" }, "Kept: " + g.roots.kept_versions + " version(s) (" + g.roots.runs + " of runs, " +
        g.roots.pins + " pinned, " + g.roots.newest + " newest). Run stack gc in a terminal to remove them."));
    $("gc-report").hidden = false;
    showError("");
  } catch (e) { showError(e.message); }
  finally { b.disabled = false; }
}

// ---- reading, and live updates
async function refresh() {
  try {
    const [runs, requests, stacks, snaps] = await Promise.all([api("GET", "/runs"), api("GET", "/requests"),
      api("GET", "/stacks"), api("GET", "/snapshots")]);
    state.runs = runs.runs;
    state.requests = requests.requests;
    state.stacks = stacks.stacks;
    state.snapshots = snaps.snapshots;
    $("engine-down").hidden = runs.engine;
    renderRequests();
    renderRuns();
    renderSnapshots();
    renderStacks();
  } catch (e) { showError(e.message); }
  try {
    state.alerts = (await api("GET", "/alerts")).alerts || [];
    $("alerts").hidden = $("alerts-nav").hidden = false;
  } catch (e) { state.alerts = []; } // a daemon without /alerts: the section stays hidden
  renderAlerts();
}

let pending = null;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(refresh, 150);
}

function live(on, text) {
  $("live").classList.toggle("on", on);
  $("live-text").textContent = text;
}

function listen() {
  const es = new EventSource("/events");
  es.onopen = () => { live(true, "live"); refreshSoon(); };
  es.onerror = () => live(false, "reconnecting");
  es.addEventListener("state", refreshSoon);
  const json = (fn) => (ev) => { let d; try { d = JSON.parse(ev.data); } catch (e) { return; } fn(d); };
  es.addEventListener("run", json(onRun));
  es.addEventListener("alert", json(onAlert));
  es.addEventListener("usage", json(onUsage));
  es.addEventListener("progress", (ev) => {
    try { const p = JSON.parse(ev.data); state.progress[p.slug] = p.line; } catch (e) { /* ignore */ }
    refreshSoon();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("logs-close").addEventListener("click", closeLogs);
  $("logs-follow").addEventListener("change", loadLogs);
  $("gc-check").addEventListener("click", checkGc);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && state.logsRun) closeLogs(); });
  refresh();
  listen();
  setInterval(() => { renderRequests(); renderRuns(); renderAlerts(); }, 30000); // ages
  setInterval(refreshSnapshots, 5000);
});
