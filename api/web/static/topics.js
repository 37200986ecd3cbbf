// The Topics page: the topics of a run (the newest by default), surging or dropping in
// sentiment first, then new ones, then by volume. Each shows its top terms, its calls per day
// (baseline days, then the window), the customers' mean sentiment in the window against before,
// three representative problem statements (each a link to that moment of its call) and a link
// to its calls in the list.
import { api, el, signed } from "./common.js";

const list = document.getElementById("topics");
const summary = document.getElementById("run-summary");
const select = document.getElementById("run-select");

function bars(perDay, from) {
  const days = Object.keys(perDay);
  const top = Math.max(1, ...Object.values(perDay));
  return el("div", { class: "day-bars", role: "img", "aria-label": `calls per day: ${days.map((d) => `${d} ${perDay[d]}`).join(", ")}` },
    ...days.map((d) => {
      const bar = el("span", { class: d >= from ? "bar window" : "bar", title: `${d}: ${perDay[d]}` });
      bar.style.height = `${Math.round((perDay[d] / top) * 100)}%`; // through the CSSOM: the CSP allows no inline style attribute
      return bar;
    }));
}

function mean(values) { return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null; }

function topic(t, run) {
  const sentiments = Object.entries(t.sentiment_per_day);
  const now = mean(sentiments.filter(([d]) => d >= run.from).map(([, v]) => v));
  const before = mean(sentiments.filter(([d]) => d < run.from).map(([, v]) => v));
  const flags = [];
  if (t.surge) flags.push(el("span", { class: "flag surge" }, `surging: ${Math.round(t.surge.share * 100)} % of ${t.surge.day} (usually ${Math.round(t.surge.baseline * 100)} %)`));
  if (t.sentiment_drop) flags.push(el("span", { class: "flag drop" }, `sentiment down: ${signed(t.sentiment_drop.window_mean)} (was ${signed(t.sentiment_drop.baseline_mean)})`));
  if (t.new) flags.push(el("span", { class: "flag new" }, "new"));
  return el("li", { class: "card topic", id: `topic-${t.key}`, dataset: { key: String(t.key), surge: t.surge ? "1" : "", new: t.new ? "1" : "" } },
    el("h2", {}, t.terms.join(", ") || `topic ${t.key}`),
    el("p", {}, ...flags, " ", el("a", { href: t.calls_link, class: "calls-link" }, `${t.calls} call${t.calls === 1 ? "" : "s"} →`)),
    bars(t.per_day, run.from),
    el("p", { class: "muted" }, `customer sentiment ${signed(now)} in the window, ${signed(before)} before`),
    el("ul", { class: "representatives" }, ...t.representatives.map((r) => el("li", {}, el("a", { href: r.link }, `“${r.text}”`)))));
}

async function load() {
  const params = new URLSearchParams(location.search);
  const [runs, run] = await Promise.all([api("/v1/topics/runs"), api(`/v1/topics${params.get("run") ? `?run=${encodeURIComponent(params.get("run"))}` : ""}`).catch((e) => e)]);
  select.replaceChildren(...runs.runs.map((r) => el("option", { value: String(r.id) }, `${r.from} – ${r.to} (${r.statements} statements)`)));
  if (run instanceof Error) {
    summary.textContent = run.message;
    return;
  }
  select.value = String(run.id);
  summary.textContent = `${run.from} – ${run.to}: ${run.statements} problem statements in ${run.topics.length} topics, compared with the ${run.baseline_days} days before.`;
  list.replaceChildren(...run.topics.map((t) => topic(t, run)));
  if (location.hash) document.querySelector(location.hash)?.scrollIntoView();
}

document.getElementById("run-pick").addEventListener("submit", (e) => {
  e.preventDefault();
  location.assign(`/topics?run=${encodeURIComponent(select.value)}`);
});
load().then(() => { document.body.dataset.ready = "1"; })
  .catch((e) => { summary.textContent = `The topics could not be loaded: ${e.message}`; document.body.dataset.ready = "error"; });
