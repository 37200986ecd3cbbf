// An agent's own evaluations: the answers, the reviewers' comments and coaching, the history; an
// evaluation can be disputed with a note. No transcript, audio or customer data reaches this page.
import { api, el, toast } from "./common.js";

const box = document.getElementById("mine");

function card(ev) {
  const note = el("input", { name: "note", required: true, maxlength: "2000", placeholder: "Why you disagree", "aria-label": `why you dispute evaluation ${ev.evaluation_id}` });
  const dispute = ["submitted", "acknowledged"].includes(ev.state) ? el("form", { class: "edit-form" }, note, el("button", { type: "submit" }, "Dispute")) : "";
  if (dispute) dispute.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await api(`/v1/me/evaluations/${ev.evaluation_id}/dispute`, { method: "POST", json: { note: note.value.trim() } }); toast("Disputed: your lead will resolve it."); load(); }
    catch (err) { toast(`Not disputed: ${err.message}`); }
  });
  return el("section", { class: "card", dataset: { evaluation: ev.evaluation_id } },
    el("h2", {}, `Call of ${ev.recorded_at.slice(0, 16).replace("T", " ")} · ${ev.score === null ? "no score" : `${ev.score.toFixed(0)} / 100`}`),
    el("p", { class: "muted" }, `${ev.state}${ev.failed_critical ? " · a critical question failed" : ""} · ${ev.form}`),
    el("h3", {}, "Coaching"), el("p", { class: "coaching-text" }, ev.coaching || "—"),
    el("table", { class: "scores-table" }, el("thead", {}, el("tr", {}, el("th", {}, "Question"), el("th", {}, "Answer"), el("th", {}, "Comment"))),
      el("tbody", {}, ...ev.questions.map((q) => el("tr", {}, el("td", {}, q.text), el("td", {}, q.answer || "—"), el("td", {}, q.comment || ""))))),
    el("h3", {}, "History"),
    el("ol", { class: "audit" }, ...ev.history.map((h) => el("li", {}, `${h.at.slice(0, 16).replace("T", " ")} · ${h.state} by ${h.by}${h.note ? ` — “${h.note}”` : ""}`))),
    dispute);
}

async function load() {
  const data = await api("/v1/me/evaluations");
  box.replaceChildren(...(data.evaluations.length ? data.evaluations.map(card) : [el("p", { class: "muted" }, "No evaluated calls yet.")]));
}
load().then(() => { document.body.dataset.ready = "1"; })
  .catch((e) => { box.replaceChildren(el("p", { class: "error" }, `Could not be loaded: ${e.message}`)); document.body.dataset.ready = "error"; });
