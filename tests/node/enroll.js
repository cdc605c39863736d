// Enrolls an SMS factor with Auth0's own auth0-guardian-js against the fake, headless (docs/server-side.md).
//
// Usage: node enroll.js <base url> <ticket id> <phone>
// Prints one JSON line: {"ok": true, ...} with what the client saw, or {"ok": false, "errorCode", ...}.
// The OTP is read from the fake's /__test/sms outbox, as the bridge would read the tenant's webhook.
'use strict';

const auth0GuardianJS = require('auth0-guardian-js');

const [baseUrl, ticket, phoneNumber] = process.argv.slice(2);

// guardian.js is callback-based; each step becomes a promise.
function step(run) {
  return new Promise((resolve, reject) => {
    run((err, value) => (err ? reject(err) : resolve(value)));
  });
}

async function latestCode(recipient) {
  const url = `${baseUrl}/__test/sms?recipient=${encodeURIComponent(recipient)}`;
  const messages = await (await fetch(url)).json();
  if (!messages.length) throw new Error('no SMS in the outbox');
  return messages[0].code;
}

function wrongCode(code) {
  return code === '000000' ? '111111' : '000000';
}

async function main() {
  const guardian = auth0GuardianJS({
    serviceUrl: `${baseUrl}/guardian`,
    ticket,
    stateCheckingMechanism: 'manual',
    issuer: { label: 'Fake tenant', name: 'fake-tenant' },
    accountLabel: phoneNumber,
  });
  const transaction = await step((cb) => guardian.start(cb));
  // Step errors are also re-emitted on the transaction; the callbacks below already report them,
  // and an EventEmitter without an 'error' listener would crash the process instead.
  transaction.on('error', () => {});
  const confirmation = await step((cb) => transaction.enroll('sms', { phoneNumber }, cb));
  const code = await latestCode(phoneNumber);

  // One wrong code first: the fake's error body must reach the client as a GuardianError.
  const rejected = await step((cb) => confirmation.confirm({ otpCode: wrongCode(code) }, cb)).then(
    () => null,
    (err) => err.errorCode,
  );
  // In manual mode the accepted-callback is the only signal; it carries the recovery code.
  const accepted = await step((cb) => confirmation.confirm({ otpCode: code }, cb));
  const state = await step((cb) => transaction.getState(cb));
  return {
    ok: true,
    txId: transaction.txId,
    wrongCodeError: rejected,
    recoveryCode: accepted.recoveryCode,
    state: state.state,
    enrollmentId: state.enrollment && state.enrollment.id,
  };
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    // The transaction token arms an expiry timer that would keep Node alive for minutes.
    process.exit(0);
  },
  (err) => {
    const failure = { ok: false, errorCode: err.errorCode || null, message: err.message };
    process.stdout.write(`${JSON.stringify(failure)}\n`);
    process.exit(1);
  },
);
