// Shared helpers of the QA app. Everything from the API is untrusted: it reaches the page only
// through textContent and attributes set by el(), never as HTML.

export const body = document.body;
export const scopes = new Set((body.dataset.scopes || "").split(",").filter(Boolean));
export const can = (scope) => scopes.has("admin") || scopes.has(scope);
export const bands = (() => {
  const [green, yellow, orange] = (body.dataset.bands || "0.3,-0.2,-0.5").split(",").map(Number);
  return { green, yellow, orange };
})();
export const LEVELS = ["green", "yellow", "orange", "red"];

/** A DOM element: el("a", {href: "/x", class: "c"}, "text", child, ...). Strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export class ApiError extends Error {
  constructor(status, message, details) { super(message); this.status = status; this.details = details; }
}

/** fetch() against the API with the session cookie; changes carry the CSRF token. JSON in and out. */
export async function api(path, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = body.dataset.csrf || "";
  let payload;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(json); }
  if (form !== undefined) payload = form;
  const r = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  if (r.status === 401) { location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`); throw new ApiError(401, "signed out"); }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, (data && data.error && data.error.message) || `HTTP ${r.status}`, data && data.error && data.error.details);
  return data;
}

export function toast(message) {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

/** The level chip: colour, shape and the word (never colour alone). */
export function chip(level) {
  return el("span", { class: `chip ${LEVELS.includes(level) ? level : "none"}`, title: level ? `escalation level ${level}` : "not scored" }, level || "—");
}

export const signed = (x, digits = 2) => (x === null || x === undefined ? "—" : (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(x).toFixed(digits));
export const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)} %`);
export function clock(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(r).padStart(2, "0")}`;
}
export const day = (iso) => (iso ? iso.slice(0, 10) : "—");
export const isoDay = (d) => d.toISOString().slice(0, 10);

/** The sign-out button: ends the session on the server and forgets the cookie. */
const signout = document.getElementById("signout");
if (signout) {
  signout.addEventListener("click", async () => {
    await api("/app/session", { method: "DELETE" }).catch(() => null);
    location.assign("/signin");
  });
}
