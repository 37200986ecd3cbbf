// The review queue, the reviewer's start page: red and orange calls and the spot-check sample,
// soonest due first, with who has each; claim one and open it; leads deal the unassigned ones
// round robin. Below, the KPI: hours from a call's analysis to its evaluation, per reason.
import { api, can, chip, el, isoDay, signed, toast } from "./common.js";

const form = document.getElementById("queue-filter");
const tbody = document.querySelector("#queue tbody");
const more = document.getElementById("more");
let cursor = null;

/** "in 35 min", "overdue by 2 h 5 min": how far a due time is from now. */
export function dueIn(iso, now = Date.now()) {
  const ms = Date.parse(iso) - now, mins = Math.round(Math.abs(ms) / 60000);
  const span = mins < 60 ? `${mins} min` : mins < 48 * 60 ? `${Math.floor(mins / 60)} h${mins % 60 ? ` ${mins % 60} min` : ""}` : `${Math.round(mins / 1440)} days`;
  return ms < 0 ? `overdue by ${span}` : `in ${span}`;
}

function show() { return new URLSearchParams(location.search).get("show") || "all"; }

function row(item) {
  const open = el("a", { href: item.url, class: "filename" }, "Open");
  const claim = item.assignee ? "" : el("button", { type: "button", class: "quiet", onclick: async () => {
    try { await api(`/v1/review-queue/${encodeURIComponent(item.call_id)}/claim`, { method: "POST" }); location.assign(item.url); }
    catch (e) { toast(`Not claimed: ${e.message}`); }
  } }, "Claim and open");
  return el("tr", { dataset: { callId: item.call_id, reason: item.reason }, class: item.overdue ? "overdue" : "" },
    el("td", {}, chip(item.level)),
    el("td", {}, item.reason === "sample" ? "spot check" : `${item.reason} call`),
    el("td", { class: item.overdue ? "num error due" : "num due", title: item.due_at.replace("T", " ").slice(0, 16) + " UTC" }, dueIn(item.due_at)),
    el("td", { class: "wide" }, item.agent_id || "—"),
    el("td", { class: "wide" }, [item.team, item.queue].filter(Boolean).join(" / ") || "—"),
    el("td", { class: "num" }, signed(item.customer_sentiment)),
    el("td", {}, item.assignee || el("span", { class: "muted" }, "nobody")),
    el("td", {}, open, " ", claim));
}

async function load(append = false) {
  const p = new URLSearchParams({ limit: "100" });
  if (show() === "mine") p.set("mine", "true");
  if (show() === "unassigned") p.set("unassigned", "true");
  if (append && cursor) p.set("cursor", cursor);
  const data = await api(`/v1/review-queue?${p}`);
  const rows = data.items.map(row);
  if (append) tbody.append(...rows); else tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "8", class: "muted" }, "Nothing to review."))]));
  cursor = data.next_cursor;
  more.hidden = !cursor;
  const c = data.counts;
  document.getElementById("queue-counts").textContent = ["red", "orange", "sample"].map((r) =>
    `${c[r].open} ${r === "sample" ? "spot checks" : r} open${c[r].overdue ? ` (${c[r].overdue} overdue)` : ""}`).join(" · ");
}

async function turnaround() {
  const to = isoDay(new Date()), from = isoDay(new Date(Date.now() - 6 * 86400e3));
  const k = (await api(`/v1/review-queue/turnaround?${new URLSearchParams({ from, to })}`)).by_reason;
  const fmt = (h) => (h === null || h === undefined ? "—" : h < 1 ? `${Math.round(h * 60)} min` : `${h.toFixed(1)} h`);
  document.getElementById("turnaround").replaceChildren(el("table", { class: "scores-table" },
    el("thead", {}, el("tr", {}, ...["Why queued", "Evaluated", "Median", "90th percentile", "On time"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...["red", "orange", "sample"].map((r) => el("tr", { dataset: { reason: r } }, el("td", {}, r === "sample" ? "spot check" : r),
      el("td", {}, String(k[r].evaluated)), el("td", {}, fmt(k[r].median_h)), el("td", {}, fmt(k[r].p90_h)),
      el("td", {}, k[r].on_time_share === null ? "—" : `${Math.round(k[r].on_time_share * 100)} %`))))));
}

form.elements.show.value = show();
form.addEventListener("submit", (e) => { e.preventDefault(); history.pushState(null, "", `/queue?show=${form.elements.show.value}`); load(); });
more.addEventListener("click", () => load(true));
if (can("lead")) {
  const card = document.getElementById("assign-card"), assign = document.getElementById("assign");
  card.hidden = false;
  assign.addEventListener("submit", async (e) => {
    e.preventDefault();
    const reviewers = assign.elements.reviewers.value.split(",").map((x) => x.trim()).filter(Boolean);
    try { const r = await api("/v1/review-queue/assign", { method: "POST", json: { reviewers } }); toast(`Assigned: ${Object.entries(r.assigned).map(([k, v]) => `${k} ${v}`).join(", ")}`); load(); }
    catch (err) { toast(`Not assigned: ${err.message}`); }
  });
}
Promise.all([load(), turnaround()]).then(() => { document.body.dataset.ready = "1"; performance.mark("callscope-ready"); })
  .catch((e) => { tbody.replaceChildren(el("tr", {}, el("td", { colspan: "8", class: "error" }, `The queue could not be loaded: ${e.message}`))); document.body.dataset.ready = "error"; });
