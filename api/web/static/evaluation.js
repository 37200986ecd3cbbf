// The evaluation panel of the review page: the form pre-filled from the call (each automatic
// answer with its confidence and evidence links that seek the player), the reviewer's answers,
// reasons, comments and coaching note, submitting, and a lead's acknowledge / dispute / resolve.
// In a calibration session (?calibration=N) the form opens blind: no automatic answers.
import { api, can, el, pct, toast } from "./common.js";

const STATE_WORDS = { draft: "draft", submitted: "submitted", acknowledged: "acknowledged by a lead", disputed: "disputed", resolved: "resolved" };

export function mountEvaluation({ callId, calibrationId, jumpTo, timeOf }) {
  const box = document.getElementById("evaluation");
  let ev = null;

  const evidence = (indices) => (indices || []).slice(0, 6).map((i) => el("a", { href: `#u${i}`, class: "ev", onclick: (e) => { e.preventDefault(); jumpTo(i); } }, `#${i} ${timeOf(i)}`));

  async function load() {
    if (calibrationId) {
      if (!can("review")) { box.replaceChildren(el("p", { class: "muted" }, "This key cannot evaluate.")); return; }
      ev = await api(`/v1/calibrations/${encodeURIComponent(calibrationId)}/calls/${encodeURIComponent(callId)}/evaluation`, { method: "POST" });
      render();
      return;
    }
    const list = (await api(`/v1/calls/${encodeURIComponent(callId)}/evaluations`)).evaluations;
    const me = document.body.dataset.who;
    const pick = list.find((x) => x.reviewer === me) || list[0];
    ev = pick ? await api(pick.url) : null;
    render();
  }

  async function start() {
    try { ev = await api(`/v1/calls/${encodeURIComponent(callId)}/evaluations`, { method: "POST", json: {} }); render(); }
    catch (e) { toast(`No evaluation: ${e.message}`); }
  }

  function editable() {
    if (!ev) return false;
    if (ev.state === "draft") return ev.reviewer === document.body.dataset.who;
    return ev.state === "disputed" && can("lead");
  }

  function questionNode(q, edit) {
    const a = q.auto;
    const autoLine = a ? el("div", { class: "auto", dataset: { auto: a.answer || "" } },
      a.answer !== null
        ? [`Pre-filled: ${a.answer}`, a.confidence !== null ? ` · confidence ${pct(a.confidence)}` : "", ` · ${a.detail}`, ...evidence(a.evidence)]
        : [`No evidence in the call: ${a.suggested ? `suggested ${a.suggested}, ` : ""}yours to answer`, ` · ${a.detail}`]) : "";
    const fieldId = `q-${q.id}`;
    let control;
    if (edit) {
      control = el("select", { id: fieldId, name: q.id, "aria-describedby": `${fieldId}-text` },
        el("option", { value: "" }, "—"), ...q.answers.map((v) => el("option", { value: v, selected: v === q.answer }, v)));
    } else {
      control = el("strong", { class: "answer" }, q.answer || "—");
    }
    const reason = el("input", { name: `${q.id}-reason`, class: "reason", maxlength: "2000", placeholder: "Why is the pre-filled answer wrong? (required)",
      "aria-label": `reason for changing the answer to: ${q.text}`, value: q.reason || "" });
    const comment = el("input", { name: `${q.id}-comment`, class: "comment", maxlength: "2000", placeholder: "Comment (optional)",
      "aria-label": `comment on: ${q.text}`, value: q.comment || "" });
    const needsReason = () => edit && a && a.answer !== null && control.value && control.value !== a.answer;
    reason.hidden = !needsReason() && !(q.reason && q.disagrees);
    if (edit) control.addEventListener("change", () => { reason.hidden = !needsReason(); reason.required = needsReason(); });
    reason.required = needsReason();
    return el("li", { class: `question${q.disagrees ? " disagrees" : ""}`, dataset: { question: q.id, source: q.source || "" } },
      el("label", { for: fieldId, id: `${fieldId}-text`, class: "q-text" }, q.text, q.critical ? el("span", { class: "tag critical", title: "answered no, the whole form fails" }, "critical") : "",
        el("span", { class: "muted" }, ` · weight ${q.weight}`)),
      el("div", { class: "q-answer" }, control, q.source ? el("span", { class: "muted" }, ` ${q.source === "auto" ? "pre-filled" : q.source}${q.by ? ` by ${q.by}` : ""}`) : ""),
      autoLine,
      q.disagrees && !edit ? el("div", { class: "muted" }, `Changed from the pre-filled ${a && a.answer}: “${q.reason || ""}”`) : "",
      edit ? el("div", { class: "q-notes" }, reason, comment) : (q.comment ? el("div", { class: "comment-text" }, `Comment: ${q.comment}`) : ""));
  }

  function collect(form) {
    const answers = {}, confirm = [];
    for (const q of ev.questions) {
      const value = form.elements[q.id].value || null;
      const reason = form.elements[`${q.id}-reason`].value.trim();
      const comment = form.elements[`${q.id}-comment`].value.trim();
      const change = {};
      if (value !== q.answer) change.answer = value;
      if (reason && reason !== (q.reason || "")) change.reason = reason;
      if (comment !== (q.comment || "")) change.comment = comment;
      if (Object.keys(change).length) answers[q.id] = change;
      else if (q.source === "auto" && q.answer !== null) confirm.push(q.id);
    }
    return { answers, confirm, coaching: form.elements.coaching.value };
  }

  async function save(form, then) {
    try {
      ev = await api(`/v1/evaluations/${ev.id}`, { method: "PATCH", json: collect(form) });
      if (then) ev = await api(`/v1/evaluations/${ev.id}/${then}`, { method: "POST", json: { note: form.elements.note ? form.elements.note.value : null } });
      toast(then ? `Evaluation ${STATE_WORDS[ev.state]}.` : "Evaluation saved.");
      render();
    } catch (e) { toast(`Not saved: ${e.message}`); }
  }

  async function act(action, note) {
    try { ev = await api(`/v1/evaluations/${ev.id}/${action}`, { method: "POST", json: { note } }); toast(`Evaluation ${STATE_WORDS[ev.state]}.`); render(); }
    catch (e) { toast(`Not done: ${e.message}`); }
  }

  function render() {
    if (!ev) {
      box.replaceChildren(el("p", { class: "muted" }, "Not evaluated yet."),
        can("review") ? el("button", { type: "button", id: "start-evaluation", onclick: start }, "Evaluate with the form") : "");
      return;
    }
    const edit = editable();
    const sections = [];
    let current = null;
    for (const q of ev.questions) {
      if (!current || current.title !== q.section) { current = { title: q.section, items: [] }; sections.push(current); }
      current.items.push(questionNode(q, edit));
    }
    const head = el("div", { class: "eval-head" },
      el("span", { class: `state ${ev.state}`, id: "evaluation-state", dataset: { state: ev.state } }, STATE_WORDS[ev.state]),
      " · ", el("strong", { id: "evaluation-score" }, ev.score === null ? "no score yet" : `${ev.score.toFixed(0)} / 100`),
      ev.state === "draft" ? el("span", { class: "muted" }, ` so far: ${ev.questions.filter((q) => q.answer !== null).length} of ${ev.questions.length} answered`) : "",
      ev.failed_critical ? el("span", { class: "error" }, " · a critical question failed") : "",
      el("div", { class: "version" }, `${ev.form} · reviewer ${ev.reviewer}${ev.disagreements ? ` · ${ev.disagreements} pre-filled answer(s) changed` : ""}`));
    const form = el("form", { id: "evaluation-form", class: "evaluation-form" },
      ...sections.map((s) => el("fieldset", {}, el("legend", {}, s.title), el("ol", { class: "questions" }, ...s.items))),
      el("label", { class: "coaching" }, "Coaching note to the agent",
        edit ? el("textarea", { name: "coaching", rows: "3", maxlength: "2000" }, ev.coaching || "") : el("p", { id: "coaching-text" }, ev.coaching || "—")));
    if (edit && ev.state === "disputed") form.append(el("input", { name: "note", required: true, placeholder: "How the dispute was resolved (required)", "aria-label": "resolution note" }));
    if (edit) {
      form.append(el("div", { class: "edit-form" },
        el("button", { type: "button", class: "quiet", id: "save-evaluation", onclick: () => save(form) }, "Save draft"),
        el("button", { type: "submit", id: "submit-evaluation" }, ev.state === "disputed" ? "Save and resolve" : "Submit")));
      form.addEventListener("submit", (e) => { e.preventDefault(); save(form, ev.state === "disputed" ? "resolve" : "submit"); });
    }
    const actions = el("div", { class: "edit-form", id: "evaluation-actions" });
    if (can("lead") && ev.state === "submitted") actions.append(el("button", { type: "button", id: "acknowledge", onclick: () => act("acknowledge", null) }, "Acknowledge"));
    if (can("lead") && ["submitted", "acknowledged"].includes(ev.state)) {
      const note = el("input", { name: "dispute-note", placeholder: "Why it is disputed", "aria-label": "dispute note" });
      actions.append(note, el("button", { type: "button", class: "quiet", id: "dispute", onclick: () => act("dispute", note.value) }, "Dispute"));
    }
    const history = el("ol", { class: "audit", id: "evaluation-history" }, ...ev.history.map((h) =>
      el("li", { dataset: { state: h.state } }, `${h.at.slice(0, 16).replace("T", " ")} · ${STATE_WORDS[h.state]} by ${h.by}${h.note ? ` — “${h.note}”` : ""}`)));
    box.replaceChildren(head, form, actions, el("h3", {}, "History"), history);
  }

  return load().catch((e) => box.replaceChildren(el("p", { class: "error" }, `The evaluation could not be loaded: ${e.message}`)));
}
