// The dashboard: aggregates per agent/team/queue/product/day over a range, the customer sentiment
// trend per day, level shares as stacked bars, the calls to review next. Every number links to
// the list of calls behind it.
import { LEVELS, api, chip, clock, el, isoDay, pct, signed } from "./common.js";

const form = document.getElementById("range");
const GROUP_PARAM = { agent: "agent_id", team: "team", queue: "queue", product: "product", reason: "reason", outcome: "outcome", channel: "channel" };
let chart = null;

function params() {
  const p = new URLSearchParams(location.search);
  const to = p.get("to") || isoDay(new Date());
  const from = p.get("from") || isoDay(new Date(Date.now() - 29 * 86400e3));
  return { group_by: p.get("group_by") || "agent", from, to };
}

/** The calls list URL for one group (and level) in the range. */
function listUrl(r, group, level) {
  const p = new URLSearchParams({ from: r.from, to: r.to, status: "done" });
  if (r.group_by === "day") { p.set("from", group); p.set("to", group); }
  else if (group !== "(none)") p.set(GROUP_PARAM[r.group_by], group);
  if (level) p.set("escalation", level);
  return `/?${p}`;
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const p = new URLSearchParams({ group_by: form.elements.group_by.value, from: form.elements.from.value, to: form.elements.to.value });
  history.pushState(null, "", `/dashboard?${p}`);
  load();
});
window.addEventListener("popstate", load);

function renderLevels(r, groups) {
  const rows = Object.entries(groups).map(([name, g]) => {
    // a group of links (one per level), named by the shares: no link inside an image role
    const bar = el("div", { class: "bar", role: "group", "aria-label": `${name}: ${LEVELS.map((l) => `${l} ${pct(g.escalation_share[l])}`).join(", ")}` });
    for (const level of LEVELS) {
      const share = g.escalation_share[level];
      if (!share) continue;
      const seg = el("a", { class: `seg ${level}`, href: listUrl(r, name, level), title: `${level}: ${pct(share)} of ${g.calls} calls` }, share >= 0.12 ? `${level} ${pct(share)}` : "");
      seg.style.flexBasis = `${share * 100}%`;
      bar.append(seg);
    }
    return el("div", { class: "row" }, el("a", { class: "label", href: listUrl(r, name) }, name), bar);
  });
  document.getElementById("levels").replaceChildren(...(rows.length ? rows : [el("p", { class: "muted" }, "No analysed calls in this range.")]));
}

/** A rate with its change against the previous period; ``higherIsBetter`` picks the arrow's sense. */
function rateCell(kind, rate, trend, n, of, higherIsBetter) {
  if (rate === null || rate === undefined) return el("td", { class: `num ${kind}-rate`, title: `no ${of}` }, "—");
  const better = trend === null || trend === undefined || trend === 0 ? "" : (trend > 0) === higherIsBetter ? "up" : "down";
  const arrow = trend === null || trend === undefined ? "" : ` ${trend > 0 ? "▲" : trend < 0 ? "▼" : "="} ${signed(trend * 100, 0)} pt`;
  return el("td", { class: `num ${kind}-rate ${better}`, title: `${n} ${of}` }, `${pct(rate)}${arrow}`);
}

function renderGroups(r, groups) {
  const rows = Object.entries(groups).map(([name, g]) => el("tr", { dataset: { group: name } },
    el("td", {}, el("a", { href: listUrl(r, name) }, name)),
    el("td", { class: "num" }, el("a", { href: listUrl(r, name), class: "calls-count" }, String(g.calls))),
    el("td", { class: "num mean" }, el("a", { href: `${listUrl(r, name)}&sort=sentiment` }, signed(g.mean_customer_sentiment))),
    el("td", { class: `num ${g.trend > 0 ? "up" : g.trend < 0 ? "down" : ""}`, title: `previous period ${signed(g.previous_mean_customer_sentiment)}` },
      g.trend === null ? "— (no calls before)" : el("a", { href: listUrl(r, name) }, `${g.trend > 0 ? "▲" : g.trend < 0 ? "▼" : "="} ${signed(g.trend)}`)),
    el("td", { class: "num wide" }, pct(g.mean_agent_talk_share)),
    el("td", { class: "num wide" }, pct(g.mean_silence_share)),
    el("td", { class: "num evaluation-score", title: Object.entries(g.evaluation_questions || {}).map(([q, v]) => `${q} ${pct(v)}`).join(", ") || "no evaluation" },
      g.evaluation_score === null || g.evaluation_score === undefined ? "—" : g.evaluation_score.toFixed(0)),
    el("td", { class: "num wide" }, String(g.evaluations || 0)),
    rateCell("fcr", g.fcr_rate, g.fcr_rate_trend, g.fcr_known, "first contacts with a known FCR", true),
    rateCell("repeat", g.repeat_rate, g.repeat_rate_trend, g.with_customer, "contacts with a customer", false),
    rateCell("recovery", g.recovery_rate, g.recovery_rate_trend, g.recovery_known, "orange/red contacts followed by another", true)));
  document.querySelector("#groups tbody").replaceChildren(...rows);
}

function renderTrend(days) {
  const box = document.getElementById("trend-chart");
  const entries = Object.entries(days).filter(([d]) => d !== "(none)").sort();
  if (chart) { chart.destroy(); chart = null; }
  if (!entries.length) { box.replaceChildren(el("p", { class: "muted" }, "No analysed calls in this range.")); return; }
  const xs = entries.map(([d]) => Date.parse(`${d}T12:00:00Z`) / 1000);
  box.replaceChildren();
  chart = new uPlot({
    width: Math.max(240, box.clientWidth), height: 200,
    series: [{ value: (u, v) => (v == null ? "—" : new Date(v * 1000).toISOString().slice(0, 10)) }, { label: "mean customer sentiment", stroke: "#0072b2", width: 2, points: { size: 7 }, value: (u, v) => signed(v) },
      { label: "calls", scale: "n", stroke: "#999", dash: [4, 3], value: (u, v) => (v == null ? "—" : String(v)) }],
    scales: { y: { range: [-1, 1] }, n: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
    axes: [{ splits: () => (xs.length > 8 ? xs.filter((_, i) => i % Math.ceil(xs.length / 8) === 0) : xs),
      values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) }, { size: 40 },
      { scale: "n", side: 1, grid: { show: false }, size: 40, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) }],
  }, [xs, entries.map(([, g]) => g.mean_customer_sentiment), entries.map(([, g]) => g.calls)], box);
  document.getElementById("trend-note").textContent = `${entries.length} day(s) with analysed calls; dashed: number of calls.`;
}

async function renderWorst(r) {
  const data = await api(`/v1/calls?${new URLSearchParams({ from: r.from, to: r.to, status: "done", sort: "sentiment", limit: "10" })}`);
  const items = data.calls.filter((c) => c.customer_sentiment !== null).map((c) => el("li", {},
    chip(c.escalation), " ", el("a", { href: `/calls/${encodeURIComponent(c.id)}` }, c.filename),
    el("span", { class: "muted" }, ` · customer ${signed(c.customer_sentiment)} · ${c.agent_id || "no agent"} · ${clock(c.duration_s)}`)));
  document.getElementById("worst").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "Nothing to review in this range.")]));
}

async function load() {
  const r = params();
  for (const k of ["group_by", "from", "to"]) form.elements[k].value = r[k];
  document.querySelectorAll(".group-name").forEach((n) => { n.textContent = r.group_by; });
  try {
    const q = (g) => api(`/v1/aggregates?${new URLSearchParams({ group_by: g, from: r.from, to: r.to })}`);
    // grouped by day, the groups are the days: one request, not the same one twice
    const [groups, days] = r.group_by === "day" ? await q("day").then((d) => [d, d]) : await Promise.all([q(r.group_by), q("day")]);
    renderLevels(r, groups.groups); renderGroups(r, groups.groups); renderTrend(days.groups);
    await renderWorst(r);
    document.body.dataset.ready = "1";
  } catch (e) {
    document.getElementById("levels").replaceChildren(el("p", { class: "error" }, `The dashboard could not be loaded: ${e.message}`));
  }
}
load();
