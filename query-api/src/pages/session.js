// What the chat page and the errors dashboard share: the login form, the session's
// tokens, API calls that carry the access token (refreshed once when it is refused), and
// logging out. A page loads this script before its own and calls startSession once.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
};

function showError(message) { $("error").textContent = message || ""; }

let session = null;      // {token, refresh, user} while logged in
let sessionPage = null;  // the page's part, given to startSession
let refreshing = null;   // the refresh under way, which every refused call waits for

// Wires the login form (#login-form, #email, #password) and the #logout button.
// page.view: the id of what is shown while logged in; page.started(user): runs after a
// login (what it throws is shown); page.renewed(): the access token changed (reopen what
// carries it in a URL); page.ended(): the session is over (close streams, forget state).
function startSession(page) {
  sessionPage = page;
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    try {
      const body = { email: $("email").value, password: $("password").value };
      const data = await api("POST", "/api/v1/auth/login", body);
      session = { token: data.access_token, refresh: data.refresh_token, user: data.user };
      $("password").value = "";
      $("login-form").hidden = true; $(page.view).hidden = false;
      await page.started(data.user);
    } catch (err) { showError(err.message); }
  });
  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/v1/auth/logout").catch(() => {});
    endSession("");
  });
}

// Calls the API; resolves to `data`, or throws an Error with the server's message.
// minPosition asks the read side to have applied that position (X-Min-Position).
async function api(method, path, body, minPosition, retried) {
  const headers = {};
  const token = session?.token;
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (minPosition) headers["X-Min-Position"] = String(minPosition);
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // A token another call has refreshed meanwhile is simply tried again.
  if (response.status === 401 && token && !retried && session
      && (session.token !== token || await refreshSession())) {
    return api(method, path, body, minPosition, true);
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok || !payload || payload.status !== "ok") {
    throw new Error(payload?.error?.message || `request failed (HTTP ${response.status})`);
  }
  return payload.data;
}

// New tokens for the refresh token. One refresh at a time: a refresh token is good for
// one use, and presenting a spent one ends the whole session.
function refreshSession() {
  if (!refreshing) refreshing = renew().finally(() => { refreshing = null; });
  return refreshing;
}

async function renew() {
  if (!session) return false;
  try {
    const response = await fetch("/api/v1/auth/refresh", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refresh }),
    });
    const payload = await response.json();
    if (payload.status !== "ok") throw new Error(payload.error?.message);
    session.token = payload.data.access_token;
    session.refresh = payload.data.refresh_token;
    sessionPage.renewed();
    return true;
  } catch {
    endSession("Your session ended: log in again.");
    return false;
  }
}

function endSession(message) {
  sessionPage.ended();
  session = null;
  $(sessionPage.view).hidden = true; $("login-form").hidden = false;
  showError(message);
}
