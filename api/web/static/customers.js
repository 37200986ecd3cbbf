// Customers at risk: pseudonyms, the riskiest first, each a link to its journey.
import { api, day, el } from "./common.js";

const rows = document.querySelector("#customers tbody");
const summary = document.getElementById("customers-summary");
const select = document.getElementById("risk-select");

async function load() {
  const level = new URLSearchParams(location.search).get("at_risk") || "medium";
  select.value = level;
  try {
    const body = await api(`/v1/customers?at_risk=${encodeURIComponent(level)}&limit=200`);
    rows.replaceChildren(...body.customers.map((c) => el("tr", { dataset: { key: c.key, level: c.churn_level } },
      el("th", { scope: "row" }, el("a", { href: c.link }, c.pseudonym)),
      el("td", {}, el("span", { class: `risk ${c.churn_level}` }, `${c.churn_level} ${c.churn_risk.toFixed(2)}`)),
      el("td", {}, String(c.contacts)), el("td", {}, String(c.repeat_contacts)), el("td", {}, String(c.recoveries)),
      el("td", {}, day(c.last_contact_at)))));
    summary.textContent = body.customers.length
      ? `${body.customers.length} customer${body.customers.length === 1 ? "" : "s"} at ${level === "low" ? "any" : level} risk or above.`
      : "No customer at this risk level. Contacts need a customer id or phone number at upload to form a journey.";
  } catch (e) {
    summary.textContent = e.message;
  }
}

document.getElementById("risk-pick").addEventListener("submit", (ev) => {
  ev.preventDefault();
  history.replaceState(null, "", `?at_risk=${encodeURIComponent(select.value)}`);
  load();
});
load();
