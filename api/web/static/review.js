// The call review page: player with a speaker lane, the transcript with the word being spoken
// highlighted, sentiment and arousal timelines with the escalation bands, the level and its
// reasons with their evidence, the categories matched (with evidence, and what changed from another
// rule-set version), scores with confidence and version, and corrections in place.
import { LEVELS, api, bands, can, chip, clock, el, pct, signed, toast } from "./common.js";
import { mountEvaluation } from "./evaluation.js";

const root = document.getElementById("call");
const id = root.dataset.callId;
const calibrationId = root.dataset.calibrationId || null;
const audio = document.getElementById("audio");
const lane = document.getElementById("lane");
const list = document.getElementById("transcript");
const ROLE_COLOUR = { agent: "#0072b2", customer: "#d55e00", unknown: "#6b6b6b" };
const EMOTIONS = ["frustrated", "dissatisfied", "uncertain", "neutral", "satisfied", "enthusiastic", "empathetic"];
const SILENCE_MIN_S = 2.0; // gaps this long with nobody speaking are marked
let data = null; // {call, transcript, timeline, corrections, rules, comments}
let words = []; // [{start, end, node, utt}] in time order
let uttNodes = [];
let current = { word: -1, utt: -1 };
let charts = [];

const path = (p) => `/v1/calls/${encodeURIComponent(id)}${p}`;

async function loadAll() {
  const [call, transcript, timeline, corrections, rules, comments] = await Promise.all([
    api(path("")), api(path("/transcript")), api(path("/timeline")), api(path("/corrections")), api("/v1/rules"), api(path("/comments"))]);
  data = { call, transcript, timeline, corrections: corrections.corrections, rules, comments: comments.comments };
}

function roleOf(speaker) {
  const s = (data.transcript.speakers || []).find((x) => x.id === speaker);
  return (s && s.role) || "unknown";
}

function seek(t, play = false) {
  if (!isFinite(t)) return;
  audio.currentTime = Math.max(0, t);
  if (play) audio.play().catch(() => null);
  tick();
}

// ---- header ------------------------------------------------------------------------------
function renderHead() {
  const c = data.call, md = c.metadata || {}, cs = (c.scores && c.scores.call) || {};
  document.getElementById("title").replaceChildren(chip(c.escalation), " ", c.filename);
  const bits = [
    md.agent_id && `agent ${md.agent_id}`, [md.team, md.queue].filter(Boolean).join(" / "),
    md.product && `product ${md.product}`, md.recorded_at && md.recorded_at.slice(0, 16).replace("T", " "),
    `${clock(c.duration_s)} long`, c.language && `language ${c.language}${c.language_confidence != null ? ` (${pct(c.language_confidence)})` : ""}`,
    cs.direction && `${cs.direction} call`, c.external_id && `ref ${c.external_id}`,
  ].filter(Boolean);
  const tr = data.transcript.transcript_reliability;
  const doubtful = tr && tr.score != null && (tr.score < tr.threshold || tr.unreliable_share >= 0.2);
  document.getElementById("meta").replaceChildren(bits.join(" · "),
    cs.role_note ? el("div", { class: "error" }, `Roles: ${cs.role_note}`) : "",
    data.transcript.language_note ? el("div", { class: "muted" }, data.transcript.language_note) : "",
    tr && tr.score != null ? el("div", { class: doubtful ? "error" : "muted", id: "transcript-reliability" },
      `Transcript reliability ${pct(tr.score)}: ${pct(tr.unreliable_share)} of the words in passages marked unreliable` +
      (tr.speech_without_words_s >= 1 ? `; ${Math.round(tr.speech_without_words_s)} s of speech without words` : "") +
      (doubtful ? ". Read the marked passages against the audio before trusting scores built on them." : ".")) : "");
}

// ---- transcript ----------------------------------------------------------------------------
function renderTranscript() {
  words = []; uttNodes = [];
  const items = data.transcript.utterances.map((u, i) => {
    const role = roleOf(u.speaker);
    const corr = u.corrected || {};
    const sent = u.sentiment ? u.sentiment.score : null;
    const head = el("div", { class: "utt-head" },
      el("span", { class: "spk" }, `${u.speaker} · ${role}`),
      el("span", { class: u.sent_at ? "sent-at" : "" }, u.sent_at ? `${u.sent_at.slice(0, 10)} ${u.sent_at.slice(11, 16)}` : clock(u.start)),
      u.sentiment ? el("span", { class: `tag${corr.sentiment ? " corrected" : ""}`, title: `sentiment ${signed(sent)}, confidence ${pct(u.sentiment.confidence)}` },
        corr.sentiment ? el("span", { class: "orig" }, signed(corr.sentiment.original)) : "", corr.sentiment ? " " : "", `sentiment ${signed(sent)}`) : "",
      u.emotion ? el("span", { class: `tag${corr.emotion ? " corrected" : ""}`, title: u.emotion.acoustic ? "text and voice" : "text only" },
        corr.emotion ? el("span", { class: "orig" }, corr.emotion.original) : "", corr.emotion ? " " : "", u.emotion.label) : "",
      u.emotion && u.emotion.arousal != null ? el("span", { class: "tag", title: "arousal from the voice, -1..+1" }, `arousal ${signed(u.emotion.arousal)}`) : "",
      u.reliability && !u.reliability.reliable ? el("span", { class: "tag unreliable-tag", title: "the transcript of this passage is unreliable: it weighs less in every score" },
        `unreliable transcript (${pct(u.reliability.score)}${u.reliability.marks.length ? `: ${u.reliability.marks.join("; ")}` : ""})`) : "");
    const text = el("div", { class: "utt-text" });
    (u.words.length ? u.words : [{ word: u.text, start: u.start, end: u.end }]).forEach((w, k) => {
      const word = w.word.trim();
      const redacted = /^\[[A-Z_]+\][.!?…]?$/.test(word);
      const span = el("span", { class: redacted ? "w pii" : "w", dataset: { t: w.start }, title: redacted ? "personal data, redacted" : null }, word);
      if (k) text.append(" ");
      text.append(span);
      words.push({ start: w.start, end: w.end, node: span, utt: i });
    });
    const unreliable = u.reliability && !u.reliability.reliable;
    const notes = (data.comments || []).filter((c) => c.utterance === i);
    const li = el("li", { class: `utt ${role}${unreliable ? " unreliable" : ""}`, id: `u${i}`, dataset: { i, start: u.start } }, head, text,
      notes.length ? el("ul", { class: "moment-comments" }, ...notes.map((c) => el("li", { dataset: { comment: c.id } }, `💬 ${c.author}: ${c.text}`))) : "");
    head.append(el("button", { type: "button", class: "quiet moment copy-link", title: "copy a link to this moment", "aria-label": `copy a link to utterance ${i}`,
      onclick: (e) => { e.stopPropagation(); copyLink(i); } }, "Link"));
    if (can("review")) head.append(el("button", { type: "button", class: "quiet moment comment-button", onclick: (e) => { e.stopPropagation(); commentOn(li, i, u); } }, "Comment"));
    if (can("review") && u.sentiment) head.append(el("button", { type: "button", class: "quiet edit", onclick: (e) => { e.stopPropagation(); editUtterance(li, i, u); } }, "Correct"));
    li.addEventListener("click", (e) => {
      const w = e.target.closest(".w");
      seek(w ? Number(w.dataset.t) : u.start);
    });
    uttNodes.push(li);
    return li;
  });
  words.sort((a, b) => a.start - b.start);
  list.replaceChildren(...items);
}

/** The address of a moment: the page with #u<i>; copied, and shown in the address bar. */
function copyLink(i) {
  const url = `${location.origin}/calls/${encodeURIComponent(id)}#u${i}`;
  history.replaceState(null, "", `#u${i}`);
  const done = () => toast(`Link copied: ${url}`);
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, () => toast(`Link: ${url}`));
  else toast(`Link: ${url}`);
}

function commentOn(li, i, u) {
  if (li.querySelector(".comment-form")) return;
  const form = el("form", { class: "edit-form comment-form" },
    el("input", { name: "text", required: true, maxlength: "2000", placeholder: `Comment at ${clock(u.start)}`, "aria-label": `comment on utterance ${i}` }),
    el("button", { type: "submit" }, "Add comment"),
    el("button", { type: "button", class: "quiet", onclick: () => form.remove() }, "Cancel"));
  form.addEventListener("click", (e) => e.stopPropagation());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await api(path("/comments"), { method: "POST", json: { utterance: i, text: form.elements.text.value.trim() } }); toast("Comment added."); await refresh(); }
    catch (err) { toast(`Not added: ${err.message}`); }
  });
  li.append(form);
  form.elements.text.focus();
}

function editUtterance(li, i, u) {
  if (li.querySelector(".edit-form")) return;
  const form = el("form", { class: "edit-form" },
    el("label", {}, "Sentiment ", el("input", { name: "sentiment", type: "number", min: "-1", max: "1", step: "0.05", value: u.sentiment.score.toFixed(2) })),
    el("label", {}, "Emotion ", el("select", { name: "emotion" }, EMOTIONS.map((e) => el("option", { value: e, selected: e === u.emotion.label }, e)))),
    el("input", { name: "reason", required: true, minlength: "3", placeholder: "Reason (required)", "aria-label": "reason" }),
    el("button", { type: "submit" }, "Save"),
    el("button", { type: "button", class: "quiet", onclick: () => form.remove() }, "Cancel"));
  form.addEventListener("click", (e) => e.stopPropagation());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { utterance: i, reason: form.elements.reason.value.trim() };
    const s = Number(form.elements.sentiment.value);
    if (Math.abs(s - u.sentiment.score) > 1e-9) body.sentiment = s;
    if (form.elements.emotion.value !== u.emotion.label) body.emotion = form.elements.emotion.value;
    if (body.sentiment === undefined && body.emotion === undefined) { toast("Nothing changed."); return; }
    await save(body);
  });
  li.append(form);
  form.elements.reason.focus();
}

async function save(body) {
  try {
    await api(path("/corrections"), { method: "POST", json: body });
    toast("Correction saved.");
    await refresh();
  } catch (e) {
    toast(`Not saved: ${e.message}`);
  }
}

// ---- playback: current word and utterance ----------------------------------------------------
function wordAt(t) {
  let lo = 0, hi = words.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (words[mid].start <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function tick() {
  const t = audio.currentTime;
  const w = wordAt(t);
  if (w !== current.word) {
    if (current.word >= 0 && words[current.word]) words[current.word].node.classList.remove("now");
    if (w >= 0 && t <= words[w].end + 0.6) words[w].node.classList.add("now"); else if (w >= 0) { drawLane(); return; }
    current.word = w;
    const u = w >= 0 ? words[w].utt : -1;
    if (u !== current.utt) {
      if (current.utt >= 0 && uttNodes[current.utt]) uttNodes[current.utt].classList.remove("current");
      if (u >= 0) {
        uttNodes[u].classList.add("current");
        if (!audio.paused) uttNodes[u].scrollIntoView({ block: "nearest" });
      }
      current.utt = u;
    }
  }
  drawLane();
}

function loop() { tick(); if (!audio.paused) requestAnimationFrame(loop); }

// A recording that cannot be played: ask the server why (410: no longer stored) and say so
audio.addEventListener("error", async () => {
  const note = document.getElementById("audio-note");
  let why = "The recording could not be played.";
  try {
    const r = await fetch(audio.currentSrc || audio.src, { headers: { Range: "bytes=0-0" }, credentials: "same-origin" });
    if (r.status === 410) why = "The recording is no longer stored (deleted under the retention policy or erased); the transcript, scores and evaluations remain.";
    else if (r.status === 409) why = "The recording is served once the analysis is done.";
    else if (!r.ok) why = `The recording could not be loaded (HTTP ${r.status}).`;
  } catch { /* the message above stands */ }
  note.textContent = why;
  note.hidden = false;
  audio.hidden = true;
});
audio.addEventListener("play", () => requestAnimationFrame(loop));
audio.addEventListener("seeked", tick);
audio.addEventListener("timeupdate", tick);

// ---- speaker lane ----------------------------------------------------------------------------
function silences() {
  const spans = data.transcript.utterances.map((u) => [u.start, u.end]).sort((a, b) => a[0] - b[0]);
  const out = []; let end = 0;
  for (const [s, e] of spans) { if (s - end >= SILENCE_MIN_S) out.push([end, s]); end = Math.max(end, e); }
  if (data.transcript.duration_s - end >= SILENCE_MIN_S) out.push([end, data.transcript.duration_s]);
  return out;
}

function drawLane() {
  if (!data) return;
  const dpr = window.devicePixelRatio || 1, w = lane.clientWidth, h = lane.clientHeight;
  if (lane.width !== Math.round(w * dpr)) { lane.width = Math.round(w * dpr); lane.height = Math.round(h * dpr); }
  const ctx = lane.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const dur = data.transcript.duration_s || 1, x = (t) => (t / dur) * w;
  const speakers = data.transcript.speakers.map((s) => s.id);
  const rowH = (h - 14) / Math.max(1, speakers.length);
  ctx.fillStyle = "#eceff3";
  for (const [s, e] of silences()) ctx.fillRect(x(s), 0, Math.max(1, x(e) - x(s)), h - 14);
  data.transcript.utterances.forEach((u) => {
    const r = speakers.indexOf(u.speaker);
    ctx.fillStyle = ROLE_COLOUR[roleOf(u.speaker)] || ROLE_COLOUR.unknown;
    ctx.fillRect(x(u.start), r * rowH + 3, Math.max(1.5, x(u.end) - x(u.start)), rowH - 6);
  });
  // overlaps: where two speakers' utterances coincide
  const us = data.transcript.utterances;
  ctx.fillStyle = "#000";
  for (let a = 0; a < us.length; a++) for (let b = a + 1; b < us.length && us[b].start < us[a].end; b++) {
    if (us[b].speaker !== us[a].speaker) { const s = us[b].start, e = Math.min(us[a].end, us[b].end); ctx.fillRect(x(s), h - 12, Math.max(1, x(e) - x(s)), 4); }
  }
  const cs = (data.call.scores && data.call.scores.call) || {};
  ctx.fillStyle = "#b00020";
  for (const it of cs.interruptions || []) { const px = x(it.at_s); ctx.beginPath(); ctx.moveTo(px, h - 14); ctx.lineTo(px - 5, h - 2); ctx.lineTo(px + 5, h - 2); ctx.fill(); }
  ctx.fillStyle = "#0b5cad"; // comments on a moment: a marker at the top
  for (const c of data.comments || []) { const px = x(c.at_s); ctx.beginPath(); ctx.moveTo(px - 5, 0); ctx.lineTo(px + 5, 0); ctx.lineTo(px, 8); ctx.fill(); }
  ctx.font = "11px system-ui"; ctx.fillStyle = "#1c2230";
  speakers.forEach((s, r) => {
    const label = `${s} ${roleOf(s)}`;
    ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(2, r * rowH + 3, ctx.measureText(label).width + 6, 14);
    ctx.fillStyle = "#1c2230"; ctx.fillText(label, 5, r * rowH + 14);
  });
  ctx.fillStyle = "#000"; ctx.fillRect(x(audio.currentTime || 0), 0, 2, h);
}
lane.addEventListener("click", (e) => { const r = lane.getBoundingClientRect(); seek(((e.clientX - r.left) / r.width) * (data.transcript.duration_s || 0)); });
window.addEventListener("resize", () => { drawLane(); charts.forEach((c) => c.setSize(size(c.root.parentElement))); });

// ---- level, reasons, scores ------------------------------------------------------------------
function evidenceLinks(indices) {
  return (indices || []).slice(0, 8).map((i) => el("a", { href: `#u${i}`, class: "ev", onclick: (e) => { e.preventDefault(); jumpTo(i); } },
    `#${i} ${clock(data.transcript.utterances[i] ? data.transcript.utterances[i].start : null)}`));
}

function jumpTo(i) {
  const node = uttNodes[i];
  if (!node) return;
  document.querySelectorAll(".evidence-target").forEach((n) => n.classList.remove("evidence-target"));
  node.classList.add("evidence-target");
  node.scrollIntoView({ block: "center" });
  seek(data.transcript.utterances[i].start);
}

function renderLevel() {
  const cs = (data.call.scores && data.call.scores.call) || null;
  const box = document.getElementById("level"), reasons = document.getElementById("reasons");
  if (!cs) { box.textContent = "Not scored."; reasons.replaceChildren(); return; }
  const esc = cs.escalation;
  box.replaceChildren(chip(esc.value), " ", el("span", {}, `confidence ${pct(esc.confidence)}`),
    esc.detail ? el("div", { class: "muted" }, esc.detail) : "",
    el("div", { class: "version", title: "rules and model version" }, esc.version));
  const roleEvidence = Object.values(cs.role_evidence || {}).flat().sort((a, b) => a - b);
  // a reason naming an utterance links to it; the role note to the words that placed the roles;
  // the level's own reasons to the utterances the level was computed from
  // a structured reason carries its evidence; a result stored before reasons were structured has
  // messages only: one naming an utterance links to it, the role note to the words that placed the
  // roles, the others to the utterances the level was computed from
  const evidenceOf = (r) => {
    const named = [...r.matchAll(/utterance (\d+)/g)].map((m) => Number(m[1]));
    if (named.length) return named;
    if (cs.role_note && r.startsWith(cs.role_note.slice(0, 30))) return roleEvidence;
    return esc.evidence;
  };
  const items = (cs.reason_details && cs.reason_details.length)
    ? cs.reason_details.map((r) => el("li", { dataset: { code: r.code, about: r.about } }, r.message, ...evidenceLinks(r.evidence)))
    : cs.reasons.map((r) => el("li", {}, r, ...evidenceLinks(evidenceOf(r))));
  reasons.replaceChildren(...items,
    ...(cs.interruptions || []).map((it) => el("li", {}, `${it.by} cut in on ${it.of} at ${clock(it.at_s)} (${it.overlap_s.toFixed(1)} s overlap)`, ...evidenceLinks(it.evidence))));
}

// ---- what the call is about: reason, outcome, summary (each line links to its moment) -------
const OUTCOME_WORDS = { resolved: "resolved", not_resolved: "not resolved", follow_up: "follow-up promised", transferred: "transferred", unknown: "outcome unknown" };
function renderInsight() {
  const box = document.getElementById("insight");
  const ins = data.call.insight;
  if (!ins) { box.replaceChildren(el("p", { class: "muted" }, "Not read yet (the call is re-scored under a rule set to get it).")); return; }
  const r = ins.reason, o = ins.outcome;
  const reasonLine = r
    ? el("p", { id: "insight-reason", dataset: { reason: r.reason } }, el("strong", {}, r.reason.replaceAll("_", " ")),
      el("span", { class: "muted" }, ` · confidence ${Math.round(r.confidence * 100)} % · ${r.detail}`), " ", ...evidenceLinks(r.evidence))
    : el("p", { class: "muted" }, "The rule set names no contact reasons.");
  const outcomeLine = el("p", { id: "insight-outcome", dataset: { outcome: o.outcome } }, el("strong", {}, OUTCOME_WORDS[o.outcome] || o.outcome),
    el("span", { class: "muted" }, ` · ${o.detail}`), " ", ...evidenceLinks(o.evidence));
  const summary = el("ol", { id: "insight-summary", class: "summary" }, ...ins.summary.map((line) => el("li", { dataset: { part: line.part } },
    el("a", { href: `#u${line.utterance}`, class: "ev", title: "play from here", onclick: (e) => { e.preventDefault(); jumpTo(line.utterance); } }, clock(line.start)),
    ` ${line.role}: ${line.text}`)));
  const g = ins.generated_summary;
  const generated = !g ? "" : g.text
    ? el("div", { id: "generated-summary", class: "generated" },
      el("p", {}, el("strong", {}, "Written by a local model"), el("span", { class: "muted" }, " · may be wrong: the lines above are the call's own words")),
      el("p", { lang: data.call.language || "" }, g.text),
      el("div", { class: "version" }, `${g.model} · ${g.seconds.toFixed(1)} s`))
    : el("p", { id: "generated-summary", class: "muted" }, `No generated summary: ${g.fallback}.`);
  box.replaceChildren(reasonLine, outcomeLine, summary, generated, el("div", { class: "version" }, ins.version), customerLine());
}

// the call's customer (a pseudonym) and its place in the journey, linked to the customer page
function customerLine() {
  const j = data.call.journey;
  if (!j) return el("p", { id: "call-customer", class: "muted" }, "No customer id or phone number came with this call: it has no journey.");
  const notes = [];
  if (j.repeat_of) notes.push(`a repeat contact (${j.days_since_previous.toFixed(1)} days after the previous)`);
  if (j.fcr === true) notes.push("resolved at first contact");
  if (j.fcr === false) notes.push("not resolved at first contact");
  if (j.recovery_of) notes.push("wins back an orange/red contact");
  return el("p", { id: "call-customer" }, "Customer ", el("a", { href: j.link }, j.pseudonym), notes.length ? ` · ${notes.join(" · ")}` : "");
}

// ---- categories ------------------------------------------------------------------------------
function renderCategories() {
  const cats = data.call.categories || [];
  document.getElementById("categories-version").textContent = data.call.rules_version ? `rule set ${data.call.rules_version}` : "no rule set yet";
  document.getElementById("categories").replaceChildren(...(cats.length ? cats.map((c) => el("li", { "data-category": c.name },
    el("strong", {}, c.name), " ", el("span", { class: "muted" }, c.detail), " ", ...evidenceLinks(c.utterances),
    ...(c.utterances.length ? [] : (c.times || []).slice(0, 3).map(([a]) => el("a", { href: "#", class: "ev", onclick: (e) => { e.preventDefault(); seek(a); } }, `at ${clock(a)}`)))))
    : [el("li", { class: "muted" }, "No category matched.")]));
  const current = Number((data.call.rules_version || "").split("/")[1]?.split("+")[0]);
  const select = document.getElementById("compare-version");
  const others = (data.rules.versions || []).filter((v) => v.version !== current);
  select.replaceChildren(el("option", { value: "" }, "another version…"), ...others.map((v) => el("option", { value: String(v.version) }, `${v.label} (${v.name})`)));
  select.disabled = !others.length;
  document.getElementById("category-diff").replaceChildren();
}

async function compareWith(version) {
  const diff = document.getElementById("category-diff");
  if (!version) { diff.replaceChildren(); return; }
  const other = await api(path(`/categories?rules_version=${encodeURIComponent(version)}`));
  const now = new Set((data.call.categories || []).map((c) => c.name)), then = new Set(other.categories.map((c) => c.name));
  const added = [...now].filter((n) => !then.has(n)), removed = [...then].filter((n) => !now.has(n));
  const items = [...added.map((n) => el("li", { class: "added" }, `+ ${n}`, el("span", { class: "muted" }, ` (not under ${other.rules_version})`))),
    ...removed.map((n) => el("li", { class: "removed" }, `− ${n}`, el("span", { class: "muted" }, ` (only under ${other.rules_version})`)))];
  diff.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, other.categories.length
    ? `The same categories as under ${other.rules_version}.` : `No categories under ${other.rules_version} (not scored under it, or none matched).`)]));
}
document.getElementById("compare-version").addEventListener("change", (e) => compareWith(e.target.value).catch((err) => toast(err.message)));

function scoreCell(s) {
  return s ? el("td", { title: `confidence ${pct(s.confidence)} · ${s.version}` }, signed(s.value), el("span", { class: "muted" }, ` (${pct(s.confidence)})`)) : el("td", {}, "—");
}

function renderScores() {
  const speakers = (data.call.scores && data.call.scores.speakers) || [];
  const cs = (data.call.scores && data.call.scores.call) || {};
  const rows = speakers.map((s) => {
    const top = Object.entries(s.emotion_shares || {}).sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, v]) => `${k} ${pct(v)}`).join(", ");
    return el("tr", {}, el("td", {}, el("span", { class: `swatch ${s.role}` }), `${s.speaker} ${s.role}`), scoreCell(s.sentiment_mean), scoreCell(s.sentiment_start),
      scoreCell(s.sentiment_end), el("td", {}, pct(s.talk_share)), el("td", {}, top || "—"), el("td", {}, s.acoustic_emotion ? "voice + text" : "text only"));
  });
  const versions = Object.entries(cs.versions || {}).map(([k, v]) => `${k} ${v}`).join(" · ");
  document.getElementById("scores").replaceChildren(
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Scores per speaker" }, el("table", { class: "scores-table" },
      el("thead", {}, el("tr", {}, ...["Speaker", "Mean", "Start", "End", "Talk", "Emotions", "Emotion from"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows))),
    el("p", { class: "muted" }, `Silence ${pct(cs.silence_share)} (longest ${cs.longest_silence_s != null ? cs.longest_silence_s.toFixed(1) : "—"} s), overlap ${cs.overlap_s != null ? cs.overlap_s.toFixed(1) : "—"} s, ` +
      `roles from ${cs.role_source || "—"} (confidence ${pct(cs.role_confidence)})` +
      (cs.sentiment_validation ? `, sentiment ${cs.sentiment_validation.validated ? `validated for ${cs.sentiment_validation.language} (${pct(cs.sentiment_validation.accuracy)})` : `not validated for ${cs.sentiment_validation.language}`}` : "")),
    el("p", { class: "muted versions" }, `Model ${data.transcript.model} · ${versions}`));
  // the analysis writes {customer, agent}; read the plural too, in case a result ever carried it
  const policy = cs.emotion_policy || {};
  const used = (role) => Boolean(policy[role] ?? policy[`${role}s`]);
  document.getElementById("policy").textContent =
    `Acoustic emotion (from the voice): customers ${used("customer") ? "yes" : "no"}, agents ${used("agent") ? "yes (deployment opt-in)" : "no (EU AI Act Art. 5(1)(f))"}. Text sentiment for every speaker.`;
}

// ---- timelines (uPlot) -------------------------------------------------------------------------
function size(container) { return { width: Math.max(240, container.clientWidth), height: 170 }; }

// the bands the call's level was read with (a rule set's for its queue or product), else the defaults
function levelBands() {
  const cs = (data.call.scores && data.call.scores.call) || {};
  return cs.bands || bands;
}

function bandsPlugin() {
  const b = levelBands();
  const fill = [["#d9f2ea", b.green, 1], ["#fbefc9", b.yellow, b.green], ["#fde0cc", b.orange, b.yellow], ["#f8d4da", -1, b.orange]];
  return { hooks: { drawClear: [(u) => {
    const { ctx } = u, { left, width } = u.bbox;
    for (const [colour, lo, hi] of fill) {
      const top = u.valToPos(hi, "y", true), bottom = u.valToPos(lo, "y", true);
      ctx.fillStyle = colour; ctx.fillRect(left, top, width, bottom - top);
    }
  }] } };
}

function marksPlugin() {
  return { hooks: { draw: [(u) => {
    const { ctx } = u, { top, height } = u.bbox;
    ctx.fillStyle = "rgba(90,98,114,0.18)";
    for (const [s, e] of silences()) { const a = u.valToPos(s, "x", true), b = u.valToPos(e, "x", true); ctx.fillRect(a, top, b - a, height); }
    const cs = (data.call.scores && data.call.scores.call) || {};
    ctx.strokeStyle = "#b00020"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.5;
    for (const it of cs.interruptions || []) { const x = u.valToPos(it.at_s, "x", true); ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke(); }
    ctx.setLineDash([]);
    ctx.strokeStyle = "#0b5cad"; ctx.setLineDash([1, 3]); // comments on a moment
    for (const c of data.comments || []) { const x = u.valToPos(c.at_s, "x", true); ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke(); }
    ctx.setLineDash([]);
  }] } };
}

function chartOf(container, key, title, withBands) {
  const tls = data.timeline.timeline.filter((t) => t[key].some((v) => v !== null));
  if (!tls.length) { container.replaceChildren(el("p", { class: "muted" }, `${title}: none for this call.`)); return null; }
  const xs = [...new Set(tls.flatMap((t) => t.grid_t))].sort((a, b) => a - b);
  const series = tls.map((t) => { const m = new Map(t.grid_t.map((x, k) => [x, t[key][k]])); return xs.map((x) => (m.has(x) ? m.get(x) : null)); });
  const opts = {
    ...size(container), title,
    scales: { x: { time: false, range: [0, data.timeline.duration_s] }, y: { range: [-1, 1] } },
    axes: [{ values: (u, ticks) => ticks.map(clock) }, { size: 40 }],
    series: [{ label: "time", value: (u, v) => clock(v) }, ...tls.map((t) => ({ label: `${t.speaker} ${t.role}`, stroke: ROLE_COLOUR[t.role] || ROLE_COLOUR.unknown, width: 2, spanGaps: false, value: (u, v) => signed(v) }))],
    plugins: [...(withBands ? [bandsPlugin()] : []), marksPlugin()],
    cursor: { sync: { key: "callscope" } },
  };
  container.replaceChildren();
  const chart = new uPlot(opts, [xs, ...series], container);
  chart.over.addEventListener("click", () => { const left = chart.cursor.left; if (left >= 0) seek(chart.posToVal(left, "x")); });
  return chart;
}

function renderCharts() {
  charts.forEach((c) => c.destroy());
  charts = [chartOf(document.getElementById("chart-valence"), "valence", `Sentiment (bands: escalation levels, green > ${levelBands().green})`, true),
    chartOf(document.getElementById("chart-arousal"), "arousal", "Arousal (voice)", false)].filter(Boolean);
}

// ---- review: call-level corrections and the audit trail -----------------------------------------
function renderReview() {
  const box = document.getElementById("call-edit");
  if (!can("review")) { box.replaceChildren(el("p", { class: "muted" }, "Read-only: this key cannot correct calls.")); }
  else {
    const level = el("form", { class: "edit-form", id: "level-form" },
      el("label", {}, "Level ", el("select", { name: "escalation" }, LEVELS.map((l) => el("option", { value: l, selected: l === data.call.escalation }, l)))),
      el("input", { name: "reason", required: true, minlength: "3", placeholder: "Reason (required)", "aria-label": "reason for the level" }),
      el("button", { type: "submit" }, "Set level"));
    level.addEventListener("submit", (e) => { e.preventDefault(); save({ escalation: level.elements.escalation.value, reason: level.elements.reason.value.trim() }); });
    const swap = el("form", { class: "edit-form", id: "swap-form" },
      el("input", { name: "reason", required: true, minlength: "3", placeholder: "Reason (required)", "aria-label": "reason for swapping roles" }),
      el("button", { type: "submit" }, "Swap agent and customer"));
    swap.addEventListener("submit", (e) => { e.preventDefault(); save({ swap_roles: true, reason: swap.elements.reason.value.trim() }); });
    // who is who, outright: the only way to place the one speaker of a call left 'unknown'
    const speakers = (data.transcript.speakers || []).map((x) => x.id);
    const setRole = el("form", { class: "edit-form", id: "role-form" },
      el("label", {}, "Speaker ", el("select", { name: "speaker" }, speakers.map((x) => el("option", { value: x }, `${x} (${roleOf(x)})`)))),
      el("label", {}, " is ", el("select", { name: "role" }, ["agent", "customer", "unknown"].map((r) => el("option", { value: r }, r)))),
      el("input", { name: "reason", required: true, minlength: "3", placeholder: "Reason (required)", "aria-label": "reason for the role" }),
      el("button", { type: "submit" }, "Set role"));
    setRole.addEventListener("submit", (e) => { e.preventDefault(); save({ roles: { [setRole.elements.speaker.value]: setRole.elements.role.value }, reason: setRole.elements.reason.value.trim() }); });
    box.replaceChildren(level, swap, setRole);
  }
  const shown = (v) => (typeof v === "number" ? signed(v) : typeof v === "object" && v !== null ? Object.entries(v).map(([k, r]) => `${k} ${r}`).join(", ") : String(v));
  const audit = document.getElementById("audit");
  audit.hidden = !data.corrections.length;
  document.getElementById("no-corrections").hidden = !!data.corrections.length;
  audit.replaceChildren(...(data.corrections.map((c) =>
    el("li", { dataset: { correction: c.id } }, `${(c.at || "").slice(0, 16).replace("T", " ")} · ${c.display_name ? `${c.display_name} (key ${c.reviewer})` : c.reviewer}: `,
      c.utterance !== null && c.utterance !== undefined ? el("a", { href: `#u${c.utterance}`, onclick: (e) => { e.preventDefault(); jumpTo(c.utterance); } }, `utterance #${c.utterance}`) : "call",
      ` ${c.field} ${shown(c.original)} → ${shown(c.value)} — “${c.reason}”`))));
}

// ---- keyboard ------------------------------------------------------------------------------------
// The player's own controls keep the focus after a click on them; the shortcuts work there too (and
// the player's own handling of the same key is prevented, so a key never acts twice).
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea, button") || e.altKey || e.ctrlKey || e.metaKey) return;
  const us = data ? data.transcript.utterances : [];
  const t = audio.currentTime;
  if (e.key === " ") { e.preventDefault(); audio.paused ? audio.play().catch(() => null) : audio.pause(); }
  else if (e.key === "ArrowLeft") { e.preventDefault(); seek(t - 5); }
  else if (e.key === "ArrowRight") { e.preventDefault(); seek(t + 5); }
  else if (e.key === "j" || e.key === "J") { e.preventDefault(); const n = us.findIndex((u) => u.start > t + 0.05); if (n >= 0) jumpTo(n); }
  else if (e.key === "k" || e.key === "K") { e.preventDefault(); let p = -1; us.forEach((u, i) => { if (u.start < t - 0.3) p = i; }); if (p >= 0) jumpTo(p); }
});

function renderAll() {
  renderHead(); renderTranscript(); renderLevel(); renderInsight(); renderCategories(); renderScores(); renderCharts(); renderReview(); drawLane(); current = { word: -1, utt: -1 }; tick();
}

async function refresh() { await loadAll(); renderAll(); }

/** ?t=40 opens the call at 40 s; #u6 at utterance 6 (marked and scrolled to). */
function openAtMoment() {
  const hash = /^#u(\d+)$/.exec(location.hash);
  if (hash && uttNodes[Number(hash[1])]) { jumpTo(Number(hash[1])); return; }
  const t = Number(new URLSearchParams(location.search).get("t"));
  if (t > 0) {
    seek(t);
    const i = data.transcript.utterances.findIndex((u) => u.end >= t);
    if (i >= 0) { uttNodes[i].classList.add("evidence-target"); uttNodes[i].scrollIntoView({ block: "center" }); }
  }
}
window.addEventListener("hashchange", openAtMoment);

refresh().then(async () => {
  openAtMoment();
  await mountEvaluation({ callId: id, calibrationId, jumpTo,
    timeOf: (i) => clock(data.transcript.utterances[i] ? data.transcript.utterances[i].start : null) });
  document.body.dataset.ready = "1";
  performance.mark("callscope-ready");
}).catch((e) => {
  document.getElementById("title").textContent = e.status === 409 ? `This call is not analysed yet: ${e.message}` : `The call could not be loaded: ${e.message}`;
  document.body.dataset.ready = "error";
});
