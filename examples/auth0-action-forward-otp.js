// Auth0 Action (trigger: send-phone-message) that hands each MFA code to a guardian-bridge OTP inbox.
// QA tenants only: installed as the phone provider, it sends codes to the bridge instead of to phones.
// Secrets: BRIDGE_INBOX_URL (https://<bridge>/v1/otp-inbox), BRIDGE_OTP_INBOX_SECRET (the bridge's key).
const crypto = require("node:crypto");

exports.onExecuteSendPhoneMessage = async (event, api) => {
  const { recipient, code, text, action, message_type } = event.message_options;
  // user_id ties the code to the enrollment of that user when several wait for the same phone; action
  // ("enrollment" or "second-factor-authentication") lets the bridge use enrollment codes only.
  const user_id = event.user && event.user.user_id;
  // A fresh id per message: the bridge refuses one it has seen, so a replayed POST does nothing.
  const message = { recipient, code, text, action, message_type, user_id, id: crypto.randomUUID() };
  const body = JSON.stringify({ ...message, created_at: new Date().toISOString() });
  // The signature covers these exact bytes, so sign the string that is sent.
  const mac = crypto.createHmac("sha256", event.secrets.BRIDGE_OTP_INBOX_SECRET).update(body).digest("hex");
  const headers = { "Content-Type": "application/json", "X-Signature": `sha256=${mac}` };
  const answer = await fetch(event.secrets.BRIDGE_INBOX_URL, {
    method: "POST", headers, body, signal: AbortSignal.timeout(5000),
  });
  if (!answer.ok) throw new Error(`the OTP inbox answered HTTP ${answer.status}`); // the send fails, visibly
};
