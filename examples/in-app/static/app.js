// The example app's page: it talks only to its own backend ("my SMS verification"), never to the bridge.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STEPS = ["off", "phone", "code", "recovery", "on"];
  let current = "off";

  async function post(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
        credentials: "same-origin",
      });
    } catch (err) {
      return { step: current, message: "We couldn't reach the server. Check your connection and try again." };
    }
    if (!response.ok) {
      return { step: current, message: "Something went wrong on our side. Try again in a moment." };
    }
    return response.json();
  }

  function show(state, focus) {
    const previous = current;
    current = state.step;
    for (const step of STEPS) $(`step-${step}`).hidden = step !== current;
    $("sms-badge").textContent = current === "on" ? "On" : current === "off" ? "Off" : "Setting up";
    $("sms-badge").dataset.on = String(current === "on");
    $("message").textContent = state.message || "";
    $("message").hidden = !state.message;
    $("notice").textContent = state.notice || "";
    $("code-phone").textContent = state.phone || "your phone";
    $("on-phone").textContent = state.phone ? ` for ${state.phone}` : "";
    $("recovery-code").textContent = state.recovery_code || "";
    if (current === "code" && previous !== "code") $("code").value = "";
    if (focus === false) return;
    const target = { off: "begin", phone: "phone", code: "code", recovery: "saved", on: null }[current];
    if (target) {
      $(target).focus();
      if (state.message && (current === "phone" || current === "code")) $(target).select();
    }
  }

  async function busy(button, work) {
    const buttons = Array.from(document.querySelectorAll("button"));
    for (const b of buttons) b.disabled = true;
    button.setAttribute("aria-busy", "true");
    let state;
    try {
      state = await work();
    } finally {
      button.removeAttribute("aria-busy");
      for (const b of buttons) b.disabled = false;
    }
    show(state); // after re-enabling: a disabled button cannot take the focus

  }

  function init() {
    $("begin").addEventListener("click", () => show({ step: "phone" }));
    $("step-phone").addEventListener("submit", (event) => {
      event.preventDefault();
      const phone = $("phone").value.trim();
      if (!phone) return show({ step: "phone", message: "Type your mobile phone number first." });
      busy($("send"), () => post("/api/sms/phone", { phone_number: phone }));
    });
    $("step-code").addEventListener("submit", (event) => {
      event.preventDefault();
      const code = $("code").value.trim();
      if (!code) return show({ step: "code", message: "Type the code from the text message." });
      busy($("verify"), () => post("/api/sms/code", { code }));
    });
    $("resend").addEventListener("click", () => busy($("resend"), () => post("/api/sms/resend")));
    for (const button of document.querySelectorAll("button.cancel")) {
      button.addEventListener("click", () => busy(button, () => post("/api/sms/cancel")));
    }
    $("saved").addEventListener("click", () => busy($("saved"), () => post("/api/sms/saved")));
    fetch("/api/me", { credentials: "same-origin" })
      .then((response) => response.json())
      .then((me) => {
        $("user-name").textContent = me.name;
        show(me.sms, false);
      })
      .catch(() => show({ step: "off", message: "We couldn't load your settings. Reload the page." }, false));
  }

  init();
})();
