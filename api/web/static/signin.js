// Sign-in: the key goes once to /app/session, which answers with a session cookie.
const form = document.getElementById("signin-form");
const error = document.getElementById("signin-error");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const key = form.elements.key.value.trim();
  const r = await fetch("/app/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key }), credentials: "same-origin" });
  form.elements.key.value = "";
  if (!r.ok) {
    const data = await r.json().catch(() => null);
    error.textContent = (data && data.error && data.error.message) || `sign-in failed (HTTP ${r.status})`;
    error.hidden = false;
    return;
  }
  const next = document.body.dataset.next || "/";
  location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
});
