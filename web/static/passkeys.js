// Passkeys (WebAuthn) in the console: adding one on the account page, logging in with one (alone, or as the
// second step after the password). The server makes the options and checks the answers; this file only
// carries them between it and the browser's authenticator. No inline scripts anywhere (CSP script-src 'self').
(function () {
  "use strict";
  const PKC = globalThis.PublicKeyCredential;
  const supported = !!(PKC && PKC.parseCreationOptionsFromJSON && PKC.parseRequestOptionsFromJSON &&
    navigator.credentials);

  function say(text, isError) {
    const el = document.getElementById("passkey-status");
    if (!el) return;
    el.textContent = text;
    el.className = isError ? "flash error" : "flash";
  }

  async function post(url, body, csrf) {
    const r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await r.json();
    } catch (_e) {
      data = {};
    }
    if (!r.ok) throw new Error(data.error || "The server refused (HTTP " + r.status + ").");
    return data;
  }

  // the browser's own refusal (cancelled, timed out, no matching key) in words
  function browserError(e) {
    if (e && e.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
    if (e && e.name === "InvalidStateError") return "This authenticator already holds a passkey for you.";
    return e && e.message ? e.message : String(e);
  }

  const add = document.getElementById("passkey-add");
  if (add) {
    if (!supported) {
      add.disabled = true;
      say("This browser cannot use passkeys.", true);
    }
    add.addEventListener("click", async function () {
      const meta = document.querySelector('meta[name="csrf-token"]');
      const csrf = meta ? meta.getAttribute("content") : "";
      const nameField = document.getElementById("passkey-name");
      add.disabled = true;
      say("Follow your browser's prompt…", false);
      try {
        const start = await post("/account/passkeys/options", {}, csrf);
        let cred;
        try {
          cred = await navigator.credentials.create({
            publicKey: PKC.parseCreationOptionsFromJSON(start.options),
          });
        } catch (e) {
          throw new Error(browserError(e));
        }
        await post("/account/passkeys", {
          handle: start.handle,
          name: nameField ? nameField.value : "Passkey",
          response: cred.toJSON(),
        }, csrf);
        location.assign("/account?passkey=added");
      } catch (e) {
        say(e.message, true);
        add.disabled = false;
      }
    });
  }

  document.querySelectorAll("[data-passkey-login]").forEach(function (btn) {
    if (!supported) {
      btn.hidden = true;
      return;
    }
    btn.addEventListener("click", async function () {
      const field = document.querySelector('input[name="_csrf"]');
      const csrf = field ? field.value : "";
      const challenge = btn.getAttribute("data-challenge") || undefined;
      btn.disabled = true;
      say("Follow your browser's prompt…", false);
      try {
        const start = await post("/login/passkey/options", { challenge: challenge }, csrf);
        let cred;
        try {
          cred = await navigator.credentials.get({
            publicKey: PKC.parseRequestOptionsFromJSON(start.options),
          });
        } catch (e) {
          throw new Error(browserError(e));
        }
        const done = await post("/login/passkey", {
          handle: start.handle,
          challenge: challenge,
          next: btn.getAttribute("data-next") || "/",
          response: cred.toJSON(),
        }, csrf);
        location.assign(done.redirect);
      } catch (e) {
        say(e.message, true);
        btn.disabled = false;
      }
    });
  });
})();
