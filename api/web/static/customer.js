// One customer's journey: the churn risk with the calls behind each signal, and the contacts on
// one timeline across channels (repeat contacts and recoveries marked), then as a table.
import { api, chip, day, el, signed } from "./common.js";

const key = document.getElementById("customer-title").dataset.key;
const LEVEL_Y = { green: 0, yellow: 1, orange: 2, red: 3 };

function when(iso) { return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : "—"; }

function journeyNote(c, byId) {
  const notes = [];
  if (c.repeat_of) notes.push(el("span", { class: "flag repeat" }, `repeat of ${when(byId[c.repeat_of]?.at)}`));
  if (c.recovery_of) notes.push(el("span", { class: "flag recovered" }, `wins back ${when(byId[c.recovery_of]?.at)}`));
  if (c.fcr === true) notes.push(el("span", { class: "flag fcr" }, "resolved at first contact"));
  if (c.fcr === false) notes.push(el("span", { class: "flag not-fcr" }, "not resolved at first contact"));
  if (c.days_since_previous !== null) notes.push(` ${c.days_since_previous.toFixed(1)} days after the previous`);
  return notes;
}

function timeline(contacts) {
  const box = document.getElementById("journey-timeline");
  if (!contacts.length) return;
  const t0 = Date.parse(contacts[0].at), t1 = Date.parse(contacts[contacts.length - 1].at);
  const span = Math.max(1, t1 - t0);
  box.setAttribute("aria-label", `contacts over time: ${contacts.map((c) => `${day(c.at)} ${c.channel || "contact"} ${c.level || "not scored"}${c.repeat_of ? " (repeat)" : ""}`).join(", ")}`);
  box.replaceChildren(...contacts.map((c) => {
    const dot = el("a", { href: c.link, class: `journey-dot ${c.level || "none"}${c.repeat_of ? " repeat" : ""}`,
      title: `${when(c.at)} · ${c.channel || "contact"} · ${c.level || "not scored"}${c.repeat_of ? " · repeat" : ""}` },
      (c.channel || "?").slice(0, 1).toUpperCase());
    // positions through the CSSOM: the CSP allows no inline style attribute
    dot.style.left = `${contacts.length === 1 ? 50 : Math.round(((Date.parse(c.at) - t0) / span) * 94 + 3)}%`;
    dot.style.top = `${10 + (LEVEL_Y[c.level] ?? 1) * 20}%`;
    return dot;
  }));
}

async function load() {
  let j;
  try {
    j = await api(`/v1/customers/${encodeURIComponent(key)}`);
  } catch (e) {
    document.getElementById("churn-summary").textContent = e.message;
    return;
  }
  document.getElementById("customer-title").textContent = `Customer ${j.pseudonym}`;
  document.title = `Customer ${j.pseudonym} · callscope`;
  document.getElementById("churn-summary").replaceChildren(
    el("span", { class: `risk ${j.churn_level}` }, `${j.churn_level} risk ${j.churn_risk.toFixed(2)}`),
    ` · ${j.contacts} contact${j.contacts === 1 ? "" : "s"} from ${day(j.first_contact_at)} to ${day(j.last_contact_at)}, ${j.repeat_contacts} repeat${j.repeat_contacts === 1 ? "" : "s"}, ${j.recoveries} recover${j.recoveries === 1 ? "y" : "ies"}`);
  const byId = Object.fromEntries(j.contact_list.map((c) => [c.call_id, c]));
  document.getElementById("churn-evidence").replaceChildren(...(j.churn_evidence.length ? j.churn_evidence.map((e) => el("li", { dataset: { signal: e.signal } },
    el("strong", {}, `${e.signal.replaceAll("_", " ")} (${signed(e.points)})`), `: ${e.means}. `,
    ...e.calls.map((id, i) => [i ? ", " : "", el("a", { href: `/calls/${id}` }, when(byId[id]?.at))]))) : [el("li", {}, "No signal seen.")]));
  document.querySelector("#signals tbody").replaceChildren(...j.signals.map((s) => el("tr", {},
    el("td", {}, s.signal.replaceAll("_", " ")), el("td", {}, signed(s.points)), el("td", {}, s.means))));
  timeline(j.contact_list);
  document.querySelector("#contacts tbody").replaceChildren(...j.contact_list.map((c) => el("tr", { dataset: { call: c.call_id }, class: c.repeat_of ? "repeat" : "" },
    el("th", { scope: "row" }, el("a", { href: c.link }, when(c.at))), el("td", {}, c.channel || "—"), el("td", {}, chip(c.level)),
    el("td", {}, signed(c.customer_sentiment)), el("td", {}, c.reason || "—"), el("td", {}, c.outcome || "—"),
    el("td", {}, ...journeyNote(c, byId)), el("td", {}, c.agent_id || "—"))));
}
load();
