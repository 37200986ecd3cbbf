// The calls list: filters and sort live in the URL (a link can be shared), pages by cursor,
// and the upload panel (drag and drop, per-file progress, the analysis stage live until done).
import { api, can, chip, clock, day, el, pct, signed, toast } from "./common.js";

const FILTERS = ["q", "meaning", "agent_id", "team", "queue", "product", "category", "reason", "outcome", "from", "to", "escalation", "emotion", "status", "topic", "at_risk", "customer"];
const form = document.getElementById("filters");
const tbody = document.querySelector("#calls tbody");
const summary = document.getElementById("summary");
const prev = document.getElementById("prev"), next = document.getElementById("next");
const meaningList = document.getElementById("meaning-results"), table = document.querySelector("#calls").closest(".table-wrap"), pager = document.querySelector("nav.pager");
const PAGE = 25;

function state() {
  const p = new URLSearchParams(location.search);
  return { params: p, sort: p.get("sort") || "-uploaded", cursor: p.get("cursor") || "", back: (p.get("back") || "").split(",").filter(Boolean) };
}

function fillForm(p) {
  for (const name of FILTERS) if (form.elements[name]) form.elements[name].value = p.get(name) || "";
}

function go(params) {
  history.pushState(null, "", `/?${params.toString()}`);
  load();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const p = new URLSearchParams();
  for (const name of FILTERS) { const v = form.elements[name].value.trim(); if (v) p.set(name, v); }
  const { sort } = state();
  if (sort !== "-uploaded") p.set("sort", sort);
  go(p);
});

document.querySelectorAll("#calls th[data-sort]").forEach((th) => {
  th.tabIndex = 0;
  const flip = () => {
    const { params, sort } = state();
    const name = th.dataset.sort;
    const nextSort = sort === `-${name}` ? name : `-${name}`;
    params.set("sort", nextSort);
    params.delete("cursor"); params.delete("back");
    go(params);
  };
  th.addEventListener("click", flip);
  th.addEventListener("keydown", (e) => { if (e.key === "Enter") flip(); });
});

function row(c) {
  const link = el("a", { href: `/calls/${encodeURIComponent(c.id)}`, class: "filename" }, c.filename);
  const sub = el("div", { class: "status" }, c.status === "done" ? (c.external_id ? `ref ${c.external_id}` : "") : `${c.status}${c.stage ? ` · ${c.stage}` : ""}`);
  const narrow = el("div", { class: "status narrow-only" }, [c.agent_id, day(c.recorded_at || c.uploaded_at)].filter(Boolean).join(" · "));
  const sentiment = c.customer_sentiment_start === null && c.customer_sentiment_end === null
    ? "—" : `${signed(c.customer_sentiment_start)} → ${signed(c.customer_sentiment_end)}`;
  return el("tr", { dataset: { callId: c.id } },
    el("td", {}, chip(c.escalation)),
    el("td", {}, link, sub, c.reason || c.outcome ? el("div", { class: "status about", dataset: { reason: c.reason || "", outcome: c.outcome || "" } },
      [c.reason && c.reason.replaceAll("_", " "), c.outcome && c.outcome.replaceAll("_", " ")].filter(Boolean).join(" · ")) : "",
      (c.categories || []).length ? el("div", { class: "status categories" }, c.categories.join(", ")) : "", narrow,
      c.match ? el("div", { class: "search-match" }, el("a", { href: c.match.link, title: `said at ${clock(c.match.start)}: open the call there` },
        `${clock(c.match.start)} `, c.match.before ? `…${c.match.before}` : "", el("mark", {}, c.match.words), c.match.after ? `${c.match.after}…` : "")) : ""),
    el("td", { class: "num wide" }, day(c.recorded_at || c.uploaded_at)),
    el("td", { class: "wide" }, c.agent_id || "—"),
    el("td", { class: "wide" }, [c.team, c.queue].filter(Boolean).join(" / ") || "—"),
    el("td", { class: "num", title: `mean ${signed(c.customer_sentiment)}` }, sentiment),
    el("td", { class: "num" }, clock(c.duration_s)),
    el("td", { class: "num wide" }, pct(c.agent_talk_share)),
    el("td", { class: "num wide" }, String(c.corrections ?? 0)));
}

// A search by meaning: the utterances nearest to the words typed, one per call, best first; each
// links to its moment in the call. The list's other filters narrow the calls searched.
function meaningRow(r) {
  const about = [r.reason && r.reason.replaceAll("_", " "), r.outcome && r.outcome.replaceAll("_", " ")].filter(Boolean).join(" · ");
  return el("li", { class: "meaning-hit", dataset: { callId: r.call_id, utterance: String(r.utterance) } },
    chip(r.escalation), " ",
    el("a", { href: `/calls/${encodeURIComponent(r.call_id)}`, class: "filename" }, r.filename),
    el("span", { class: "status" }, [day(r.recorded_at || r.uploaded_at), r.language, about].filter(Boolean).join(" · ")),
    el("div", { class: "search-match" },
      el("a", { href: r.link, title: `said at ${clock(r.start)}: open the call there` },
        `${clock(r.start)} ${r.role || "speaker"}: `, el("q", {}, r.text)),
      ` similarity ${r.similarity.toFixed(2)}`,
      r.reliable ? "" : el("span", { class: "tag unreliable-tag", title: "the decoder was unsure of this passage: listen before you rely on it" }, "unreliable transcript")));
}

async function loadMeaning(params) {
  const q = new URLSearchParams();
  for (const name of FILTERS) if (name !== "meaning" && name !== "q" && name !== "status" && params.get(name)) q.set(name, params.get(name));
  q.set("q", params.get("meaning")); q.set("limit", "20");
  table.hidden = true; pager.hidden = true; meaningList.hidden = false;
  summary.textContent = "Searching by meaning…";
  try {
    const data = await api(`/v1/search?${q}`);
    meaningList.replaceChildren(...data.results.map(meaningRow));
    summary.textContent = data.results.length
      ? `${data.results.length === 1 ? "The utterance" : `The ${data.results.length} utterances`} nearest in meaning to “${data.query}”, one per call, best first (${data.searchable_calls} searchable call${data.searchable_calls === 1 ? "" : "s"})`
      : "No searchable call matches these filters.";
  } catch (e) {
    summary.textContent = `The search could not be made: ${e.message}`;
  }
  document.body.dataset.ready = "1";
}

async function load() {
  const { params, sort, cursor, back } = state();
  fillForm(params);
  if (!can("read")) { // an upload-only key: the panel above is its page; the list is not its to read
    summary.textContent = "This key uploads recordings; it cannot read calls or their results.";
    document.body.dataset.ready = "1";
    return;
  }
  if (params.get("meaning")) { await loadMeaning(params); return; }
  table.hidden = false; pager.hidden = false; meaningList.hidden = true;
  document.querySelectorAll("#calls th[data-sort]").forEach((th) => {
    const s = th.dataset.sort;
    th.setAttribute("aria-sort", sort === s ? "ascending" : sort === `-${s}` ? "descending" : "none");
  });
  const q = new URLSearchParams();
  for (const name of FILTERS) if (name !== "meaning" && params.get(name)) q.set(name, params.get(name));
  q.set("sort", sort); q.set("limit", String(PAGE));
  if (cursor) q.set("cursor", cursor);
  try {
    const data = await api(`/v1/calls?${q}`);
    tbody.replaceChildren(...data.calls.map(row));
    const first = back.length * PAGE + 1;
    const topic = params.get("topic") ? `Topic ${params.get("topic")} (from the Topics page): ` : "";
    summary.textContent = topic + (data.total ? `Calls ${first}–${first + data.calls.length - 1} of ${data.total}` : "No calls match these filters.");
    prev.disabled = !cursor;
    next.disabled = !data.next_cursor;
    next.onclick = () => {
      const p = new URLSearchParams(params);
      p.set("back", [...back, cursor || "-"].join(",")); p.set("cursor", data.next_cursor);
      go(p);
    };
    prev.onclick = () => {
      const p = new URLSearchParams(params);
      const before = back.slice(0, -1), last = back[back.length - 1];
      if (last && last !== "-") p.set("cursor", last); else p.delete("cursor");
      if (before.length) p.set("back", before.join(",")); else p.delete("back");
      go(p);
    };
    document.body.dataset.ready = "1";
    performance.mark("callscope-ready");
  } catch (e) {
    summary.textContent = `The list could not be loaded: ${e.message}`;
  }
}

window.addEventListener("popstate", load);
if (matchMedia("(max-width: 640px)").matches) document.querySelectorAll("details.fold").forEach((d) => { d.open = false; });
load();

// ---- upload ------------------------------------------------------------------------------
const panel = document.getElementById("upload");
if (can("upload")) {
  panel.hidden = false;
  const zone = document.getElementById("dropzone"), input = document.getElementById("files");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); uploadAll(e.dataTransfer.files); });
  input.addEventListener("change", () => { uploadAll(input.files); input.value = ""; });
}

function metadata() {
  const meta = document.getElementById("upload-meta"), fields = {};
  for (const element of meta.elements) {
    const v = element.value.trim();
    if (!element.name || !v) continue;
    fields[element.name] = element.name === "recorded_at" ? new Date(v).toISOString() : v;
  }
  return fields;
}

function uploadAll(files) {
  const fields = metadata();
  for (const file of files) uploadOne(file, fields);
}

function uploadOne(file, fields) {
  const bar = el("progress", { max: "1", value: "0" });
  const state = el("span", { class: "status" }, "uploading");
  const item = el("li", { dataset: { file: file.name } }, el("span", { class: "name" }, file.name), bar, state);
  document.getElementById("uploads").append(item);
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  data.append("files", file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/v1/calls");
  xhr.setRequestHeader("X-CSRF-Token", document.body.dataset.csrf || "");
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
  xhr.onerror = () => { state.textContent = "upload failed: the connection was lost"; item.dataset.status = "failed"; };
  xhr.onload = () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status !== 202) {
      state.textContent = `refused: ${(body && body.error && body.error.message) || `HTTP ${xhr.status}`}`;
      item.dataset.status = "failed";
      return;
    }
    const ref = body.calls[0];
    bar.value = 0;
    if (!can("read")) { // an upload-only key: accepted is all it may know; the analysis is not its to read
      bar.value = 1;
      item.dataset.status = "accepted";
      state.textContent = "accepted: queued for analysis (this key cannot read the results)";
      return;
    }
    follow(ref.id, item, bar, state);
  };
  xhr.send(data);
}

async function follow(id, item, bar, state) {
  item.dataset.callId = id;
  for (;;) {
    let c;
    try { c = await api(`/v1/calls/${encodeURIComponent(id)}`); } catch (e) { state.textContent = e.message; return; }
    bar.value = c.progress || 0;
    item.dataset.status = c.status;
    if (c.status === "done") {
      state.replaceChildren(el("a", { href: `/calls/${encodeURIComponent(id)}` }, "done: review"), " ", chip(c.escalation));
      toast(`${c.filename} analysed`);
      load();
      return;
    }
    if (c.status === "failed") { state.textContent = `failed: ${c.error || "see the server log"}`; return; }
    state.textContent = `${c.status}${c.stage ? `: ${c.stage}` : ""} (${Math.round((c.progress || 0) * 100)} %)`;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
