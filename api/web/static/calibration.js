// A calibration session: the calls each reviewer evaluates blind, who has submitted, and once all
// have (a lead sees it at once) the answers side by side with per-question agreement: between the
// reviewers (kappa with its 95 % interval) and of the automatic answers with the consensus.
import { api, el } from "./common.js";

const root = document.getElementById("calibration");
const cid = root.dataset.calibrationId;
const fmt = (x) => (x === null || x === undefined ? "—" : x.toFixed(2));
const interval = (ci) => (ci ? ` [${fmt(ci[0])}, ${fmt(ci[1])}]` : "");

function agreementText(a) {
  if (!a || !a.n) return "—";
  const kappa = a.kappa === null ? "kappa undefined (one answer only)" : `kappa ${fmt(a.kappa)}${interval(a.kappa_ci)}`;
  return `${kappa} · agree ${Math.round(a.accuracy * 100)} % · n ${a.n}`;
}

async function load() {
  const s = await api(`/v1/calibrations/${encodeURIComponent(cid)}`);
  document.getElementById("cal-title").textContent = `Calibration: ${s.name}`;
  document.getElementById("cal-meta").textContent = `${s.calls.length} call(s) · reviewers ${s.reviewers.join(", ")} · ${s.form} · by ${s.created_by}`;
  const me = document.body.dataset.who;
  document.getElementById("cal-calls").replaceChildren(...s.calls.map((c, k) => {
    const done = s.submitted.filter((x) => x.call_id === c && x.submitted).map((x) => x.reviewer);
    return el("li", { dataset: { callId: c } }, el("a", { href: `/calls/${encodeURIComponent(c)}?calibration=${encodeURIComponent(cid)}` }, `Call ${k + 1}`),
      el("span", { class: "muted" }, ` · submitted by ${done.length ? done.join(", ") : "nobody yet"}${s.reviewers.includes(me) && !done.includes(me) ? " · yours to do" : ""}`));
  }));
  const out = document.getElementById("cal-results");
  if (!s.results) { out.replaceChildren(el("p", { class: "muted", id: "cal-waiting" }, "Shown once every reviewer has submitted every call.")); return; }
  out.replaceChildren(...s.results.questions.map((q) => el("div", { class: "cal-question", dataset: { question: q.id } },
    el("h3", {}, q.text),
    el("p", { class: "agreement" }, el("strong", {}, "Reviewers: "), agreementText(q.reviewers_agreement), " · ",
      el("strong", {}, "Automatic vs consensus: "), agreementText(q.auto_vs_consensus)),
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Answers to: ${q.text}` }, el("table", { class: "scores-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "Call"), ...s.reviewers.map((r) => el("th", {}, r)), el("th", {}, "Consensus"), el("th", {}, "Automatic"))),
      el("tbody", {}, ...q.calls.map((row) => el("tr", {}, el("td", {}, `Call ${s.calls.indexOf(row.call_id) + 1}`),
        ...s.reviewers.map((r) => el("td", { class: row.answers[r] !== row.consensus ? "differs" : "" }, row.answers[r] || "—")),
        el("td", {}, row.consensus || "no majority"), el("td", {}, row.auto || (row.auto_suggested ? `(${row.auto_suggested}?)` : "—"))))))))));
}
load().then(() => { document.body.dataset.ready = "1"; })
  .catch((e) => { document.getElementById("cal-results").replaceChildren(el("p", { class: "error" }, `Could not be loaded: ${e.message}`)); document.body.dataset.ready = "error"; });
