// The operator console: the page's behaviour, calling the bridge's own API with the token the person
// typed. The token lives in sessionStorage only and travels in the Authorization header, never in a URL
// (bridge-api.js reads the event stream with fetch, since EventSource cannot send that header).
import { BridgeApi } from "./bridge-api.js";

const TOKEN_KEY = "guardian-bridge.console.token";
const ACTIVE = new Set(["starting", "awaiting_phone", "awaiting_code"]);
const STATE_LABELS = {
  none: "No enrollment open",
  starting: "Starting",
  awaiting_phone: "Waiting for the phone number",
  awaiting_code: "Waiting for the code",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  expired: "Expired",
};
const STEP_LABELS = { start: "Open the ticket", phone: "Send the code", code: "Verify the code", resend: "Resend" };

const $ = (id) => document.getElementById(id);
const view = {
  current: null, // the open enrollment as the API last described it
  steps: [],
  callsAfter: 0,
  stream: null, // AbortController of the event stream being read
  screenshotUrl: null,
};

// --- API access -------------------------------------------------------------------------------
function token() {
  return $("token").value.trim();
}

const bridge = new BridgeApi(token);
const api = (method, path, body) => bridge.call(method, path, body);

// --- rendering --------------------------------------------------------------------------------
function cell(row, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text == null ? "" : String(text);
  row.appendChild(td);
  return td;
}

function ms(value) {
  return typeof value === "number" ? `${Math.round(value)} ms` : "";
}

function showProblem(message, widgetMessage) {
  $("problem-message").textContent = message;
  $("problem-widget").textContent = widgetMessage ? `The widget says: “${widgetMessage}”` : "";
  $("problem-widget").hidden = !widgetMessage;
  $("problem").hidden = false;
}

function clearProblem() {
  $("problem").hidden = true;
  $("problem-message").textContent = "";
  $("problem-widget").textContent = "";
}

function describeError(err) {
  if (err.code === "unauthorized") return "The bridge refused the API token. Check it and try again.";
  if (err.code === "enrollment_not_found") return "This enrollment is not known to the bridge (or not yours).";
  return `${err.message} (${err.code})`;
}

function renderBadge(state) {
  const badge = $("state");
  badge.dataset.state = state || "none";
  badge.textContent = STATE_LABELS[state || "none"] || state;
}

function renderState(state, lastError) {
  renderBadge(state);
  if (lastError) {
    showProblem(`${lastError.message} (${lastError.code})`, lastError.widget_message);
  } else {
    clearProblem();
  }
  renderControls(state);
}

function renderControls(state) {
  const open = Boolean(view.current);
  $("phone").disabled = $("send-code").disabled = !(open && state === "awaiting_phone");
  $("code").disabled = $("verify").disabled = $("resend").disabled = !(open && state === "awaiting_code");
  $("cancel").disabled = !(open && ACTIVE.has(state));
}

function renderEnrollment(enrollment) {
  view.current = enrollment;
  view.steps = enrollment.steps.slice();
  const parts = [`ID ${enrollment.id}`];
  if (enrollment.flavour) parts.push(`${enrollment.flavour} widget`);
  if (enrollment.engine) parts.push(`${enrollment.engine} engine`);
  if (enrollment.phone_number) parts.push(`phone ${enrollment.phone_number}`);
  if (enrollment.code_attempts) parts.push(`${enrollment.code_attempts} code attempt(s)`);
  $("enrollment-meta").textContent = parts.join(" · ");
  renderState(enrollment.state, enrollment.last_error);
  renderSteps();
  const recovery = enrollment.recovery_code;
  $("recovery-code").textContent = recovery || "";
  $("recovery").hidden = !recovery;
  markListed();
}

function renderSteps() {
  const body = $("steps").tBodies[0];
  body.replaceChildren();
  for (const step of view.steps) {
    const row = document.createElement("tr");
    cell(row, STEP_LABELS[step.name] || step.name);
    const outcome = cell(row, step.error_code ? `${step.outcome} · ${step.error_code}` : step.outcome);
    outcome.className = step.outcome === "ok" ? "outcome-ok" : "outcome-bad";
    cell(row, ms(step.duration_ms), "num");
    cell(row, ms(step.widget_ms), "num");
    cell(row, step.widget_message || "");
    body.appendChild(row);
  }
  $("steps").hidden = view.steps.length === 0;
  $("steps-empty").hidden = view.steps.length > 0;
}

function addStep(step) {
  const seen = view.steps.some((s) => s.name === step.name && s.started_at === step.started_at);
  if (!seen) {
    view.steps.push(step);
    renderSteps();
  }
}

async function refreshScreenshot() {
  const enrollment = view.current;
  if (!enrollment) return;
  if (!ACTIVE.has(enrollment.state) && enrollment.state !== "failed") {
    // Only a failed enrollment keeps a picture of its last page; the others' pages are closed.
    $("screenshot").hidden = true;
    $("screenshot-caption").textContent = "The widget's page closed when the enrollment ended.";
    return;
  }
  let blob;
  try {
    blob = await bridge.blob(`/v1/enrollments/${encodeURIComponent(enrollment.id)}/screenshot`);
  } catch (err) {
    if (view.current === enrollment) {
      $("screenshot-caption").textContent = "No picture of the widget is available now (its page is closed).";
    }
    return;
  }
  if (view.current !== enrollment) return;
  if (view.screenshotUrl) URL.revokeObjectURL(view.screenshotUrl);
  view.screenshotUrl = URL.createObjectURL(blob);
  const img = $("screenshot");
  img.src = view.screenshotUrl;
  img.alt = `The widget's page, ${STATE_LABELS[enrollment.state] || enrollment.state}`.toLowerCase();
  img.hidden = false;
  $("screenshot-caption").textContent = `As of ${new Date().toLocaleTimeString()}.`;
}

async function refreshCalls() {
  const enrollment = view.current;
  if (!enrollment) return;
  let page;
  try {
    page = await api("GET", `/v1/enrollments/${encodeURIComponent(enrollment.id)}/calls?after=${view.callsAfter}`);
  } catch (err) {
    return; // the calls table is an aid; a failed read leaves it as it was
  }
  if (view.current !== enrollment) return;
  const body = $("calls").tBodies[0];
  // Reads may overlap (one per event): a call already shown is skipped.
  for (const call of page.calls.filter((c) => c.seq > view.callsAfter)) {
    const row = document.createElement("tr");
    cell(row, call.seq, "num");
    cell(row, call.kind);
    cell(row, call.method);
    const endpoint = document.createElement("code");
    endpoint.textContent = call.endpoint || call.path;
    cell(row, "").appendChild(endpoint);
    cell(row, call.status == null ? (call.failure || "—") : call.status, "num");
    cell(row, ms(call.duration_ms), "num");
    body.appendChild(row);
  }
  view.callsAfter = Math.max(view.callsAfter, page.next_after);
  const any = body.rows.length > 0;
  $("calls").hidden = !any;
  $("calls-empty").hidden = any;
}

let refreshTimer = null;
function afterChange() {
  // Events come in bursts (a step, then its state): one refresh after the burst, which also lets
  // the state say whether the widget's page is still open before the screenshot is asked for.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshScreenshot();
    refreshCalls();
  }, 150);
}

// --- the event stream ----------------------------------------------------------------------------
function follow(enrollment) {
  if (view.stream) view.stream.abort();
  const controller = new AbortController();
  view.stream = controller;
  const path = `/v1/enrollments/${encodeURIComponent(enrollment.id)}/events`;
  bridge.follow(path, controller.signal, (type, data) => onEvent(enrollment, type, data));
}

function onEvent(enrollment, type, data) {
  if (view.current === null || view.current.id !== enrollment.id) return;
  if (type === "step") {
    addStep(data);
    afterChange();
  } else if (type === "state") {
    view.current.state = data.state;
    view.current.last_error = data.last_error || null;
    renderState(data.state, data.last_error || null);
    if (!ACTIVE.has(data.state)) reload(enrollment.id);
    afterChange();
    loadList();
  }
}

// --- actions ----------------------------------------------------------------------------------
async function busy(button, work) {
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    await work();
  } catch (err) {
    showProblem(describeError(err), null);
  } finally {
    button.removeAttribute("aria-busy");
    // The step buttons follow the enrollment's state; Start is always available again.
    renderControls(view.current ? view.current.state : null);
    $("start").disabled = false;
  }
}

function open(enrollment) {
  const switching = !view.current || view.current.id !== enrollment.id;
  if (switching) {
    view.callsAfter = 0;
    $("calls").tBodies[0].replaceChildren();
    $("calls").hidden = true;
    $("calls-empty").hidden = false;
    $("screenshot").hidden = true;
    $("screenshot-caption").textContent = "The widget's page appears here after each step.";
  }
  renderEnrollment(enrollment);
  if (switching) {
    if (view.stream) view.stream.abort();
    if (ACTIVE.has(enrollment.state)) follow(enrollment);
  }
  afterChange();
}

async function reload(id) {
  try {
    const enrollment = await api("GET", `/v1/enrollments/${encodeURIComponent(id)}`);
    if (view.current && view.current.id === id) renderEnrollment(enrollment);
  } catch (err) {
    showProblem(describeError(err), null);
  }
}

async function start(event) {
  event.preventDefault();
  const ticketUrl = $("ticket-url").value.trim();
  const userId = $("user-id").value.trim();
  if (!token()) {
    showProblem("Type the API token first.", null);
    $("token").focus();
    return;
  }
  if (Boolean(ticketUrl) === Boolean(userId)) {
    showProblem("Give either a ticket URL or a user ID (one of the two).", null);
    $(ticketUrl ? "user-id" : "ticket-url").focus();
    return;
  }
  const body = ticketUrl ? { ticket_url: ticketUrl } : { user_id: userId };
  if (!$("engine-row").hidden && $("engine").value) body.engine = $("engine").value;
  await busy($("start"), async () => {
    clearProblem();
    renderBadge("starting");
    let enrollment;
    try {
      enrollment = await api("POST", "/v1/enrollments", body);
    } catch (err) {
      renderBadge(view.current ? view.current.state : null); // nothing started
      throw err;
    }
    open(enrollment);
    loadList();
    if (enrollment.state === "awaiting_phone") $("phone").focus();
  });
}

async function step(button, path, body, focusAfter) {
  const enrollment = view.current;
  if (!enrollment) return;
  await busy(button, async () => {
    const updated = await api("POST", `/v1/enrollments/${encodeURIComponent(enrollment.id)}/${path}`, body);
    if (view.current && view.current.id === updated.id) {
      renderEnrollment(updated);
      afterChange();
      focusAfter(updated);
    }
  });
}

function sendPhone(event) {
  event.preventDefault();
  const phone = $("phone").value.trim();
  if (!phone) {
    showProblem("Type the phone number, e.g. +14155550123.", null);
    $("phone").focus();
    return;
  }
  step($("send-code"), "phone", { phone_number: phone }, (e) => $(e.state === "awaiting_code" ? "code" : "phone").focus());
}

function verify(event) {
  event.preventDefault();
  const code = $("code").value.trim();
  if (!code) {
    showProblem("Type the code the phone received.", null);
    $("code").focus();
    return;
  }
  step($("verify"), "code", { code }, (e) => {
    if (e.state === "awaiting_code") {
      $("code").select();
      $("code").focus();
    } else if (e.recovery_code) {
      $("recovery").scrollIntoView({ block: "nearest" });
    }
  });
}

async function cancel() {
  const enrollment = view.current;
  if (!enrollment) return;
  await busy($("cancel"), async () => {
    await api("DELETE", `/v1/enrollments/${encodeURIComponent(enrollment.id)}`);
    await reload(enrollment.id);
    loadList();
  });
}

// --- the token's enrollments ------------------------------------------------------------------
function markListed() {
  for (const row of $("enrollment-list").tBodies[0].rows) {
    row.setAttribute("aria-current", String(Boolean(view.current && row.dataset.id === view.current.id)));
  }
}

async function loadList() {
  if (!token()) return;
  let list;
  try {
    list = await api("GET", "/v1/enrollments");
  } catch (err) {
    showProblem(describeError(err), null);
    return;
  }
  const body = $("enrollment-list").tBodies[0];
  body.replaceChildren();
  const items = list.enrollments.slice().sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  for (const enrollment of items) {
    const row = document.createElement("tr");
    row.dataset.id = enrollment.id;
    const idCell = cell(row, "");
    const code = document.createElement("code");
    code.textContent = enrollment.id;
    idCell.appendChild(code);
    cell(row, STATE_LABELS[enrollment.state] || enrollment.state);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "quiet";
    button.textContent = "Open";
    button.setAttribute("aria-label", `Open enrollment ${enrollment.id}`);
    button.addEventListener("click", async () => {
      try {
        open(await api("GET", `/v1/enrollments/${encodeURIComponent(enrollment.id)}`));
        $("enrollment-title").focus();
      } catch (err) {
        showProblem(describeError(err), null);
      }
    });
    cell(row, "").appendChild(button);
    body.appendChild(row);
  }
  $("enrollment-list").hidden = items.length === 0;
  $("list-empty").hidden = items.length > 0;
  markListed();
}

// --- optional features the bridge announces ---------------------------------------------------
async function loadFeatures() {
  try {
    const response = await fetch("/console/features.json", { cache: "no-store", credentials: "omit" });
    const features = await response.json();
    const engines = Array.isArray(features.engines) ? features.engines : [];
    if (engines.length) {
      for (const option of Array.from($("engine").options)) {
        option.hidden = option.value !== "" && !engines.includes(option.value);
      }
      $("engine-row").hidden = false;
    }
  } catch (err) {
    // Without the list the console starts enrollments with the bridge's default engine.
  }
}

function init() {
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("token").addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, token()));
  $("token").addEventListener("change", loadList);
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadList();
  });
  $("enrollment-title").tabIndex = -1;
  $("start-form").addEventListener("submit", start);
  $("phone-form").addEventListener("submit", sendPhone);
  $("code-form").addEventListener("submit", verify);
  $("resend").addEventListener("click", () => step($("resend"), "resend", undefined, () => $("code").focus()));
  $("cancel").addEventListener("click", cancel);
  $("refresh-list").addEventListener("click", loadList);
  renderState(null, null);
  loadFeatures();
  loadList();
}

init();
