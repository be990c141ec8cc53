// passkeys.js runs the pages' WebAuthn ceremonies (SPEC §10): "Sign in
// with a passkey" on the login page, "Use a passkey" on the two-factor
// page, and adding a passkey on the account page. It is a static file of
// the registry (CSP script-src 'self'); the pages carry no inline script,
// and everything it needs comes from data- attributes and form fields.
// The server checks everything; this file only moves bytes between the
// JSON endpoints and navigator.credentials.
(function () {
  "use strict";

  function fromB64u(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64u(buf) {
    var bytes = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The options arrive as JSON (base64url strings); the browser API takes
  // ArrayBuffers.
  function creationOptions(pk) {
    pk.challenge = fromB64u(pk.challenge);
    pk.user.id = fromB64u(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
    return pk;
  }

  function requestOptions(pk) {
    pk.challenge = fromB64u(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
    return pk;
  }

  // registrationJSON and authenticationJSON are the RegistrationResponseJSON
  // and AuthenticationResponseJSON of the WebAuthn spec.
  function registrationJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id, rawId: toB64u(cred.rawId), type: cred.type,
      response: {
        clientDataJSON: toB64u(r.clientDataJSON), attestationObject: toB64u(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : []
      },
      clientExtensionResults: cred.getClientExtensionResults()
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  function authenticationJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id, rawId: toB64u(cred.rawId), type: cred.type,
      response: {
        clientDataJSON: toB64u(r.clientDataJSON), authenticatorData: toB64u(r.authenticatorData),
        signature: toB64u(r.signature)
      },
      clientExtensionResults: cred.getClientExtensionResults()
    };
    if (r.userHandle) {
      out.response.userHandle = toB64u(r.userHandle);
    }
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  // answer reads a JSON answer; a failure becomes an Error with the
  // server's message.
  function answer(resp) {
    return resp.json().catch(function () { return {}; }).then(function (body) {
      if (!resp.ok) {
        throw new Error(body.message || "Something went wrong. Please reload the page and try again.");
      }
      return body;
    });
  }

  // postForm posts fields as a form (the page routes check its csrf_token
  // like every other form); postJSON calls the JSON API.
  function postForm(url, fields) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" },
      body: new URLSearchParams(fields)
    }).then(answer);
  }

  function postJSON(url, obj) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(obj)
    }).then(answer);
  }

  function showError(err) {
    var el = document.getElementById("passkey-error");
    var msg = err && err.name === "NotAllowedError" ? "The passkey was not used." : (err && err.message) || String(err);
    if (el) {
      el.textContent = msg;
      el.hidden = false;
    }
  }

  // signIn runs a passkey sign-in: passwordless without an mfa_token, the
  // second factor with one. /login/passkey/session turns the finished
  // ceremony into a browser session and says where to go.
  function signIn(btn, mfaToken) {
    if (!window.PublicKeyCredential) {
      showError(new Error("This browser does not support passkeys."));
      return;
    }
    btn.disabled = true;
    postJSON("/login/passkey/begin", mfaToken ? { mfa_token: mfaToken } : {}).then(function (begun) {
      return navigator.credentials.get({ publicKey: requestOptions(begun.publicKey) }).then(function (cred) {
        return postForm("/login/passkey/session", {
          csrf_token: btn.dataset.csrf, next: btn.dataset.next || "", login_id: begun.login_id,
          credential: JSON.stringify(authenticationJSON(cred))
        });
      });
    }).then(function (done) {
      window.location.assign(done.redirect);
    }).catch(function (err) {
      btn.disabled = false;
      showError(err);
    });
  }

  // addPasskey registers a passkey from the account page's form: the
  // password starts the ceremony, the name labels the passkey.
  function addPasskey(form) {
    var csrf = form.elements.csrf_token.value;
    var name = form.elements.name.value;
    var btn = form.querySelector("button");
    btn.disabled = true;
    postForm("/account/passkeys/begin", { csrf_token: csrf, password: form.elements.password.value }).then(function (begun) {
      return navigator.credentials.create({ publicKey: creationOptions(begun.publicKey) });
    }).then(function (cred) {
      return postForm("/account/passkeys/finish", {
        csrf_token: csrf, name: name, credential: JSON.stringify(registrationJSON(cred))
      });
    }).then(function () {
      window.location.assign("/account?passkey=added#passkeys");
    }).catch(function (err) {
      btn.disabled = false;
      showError(err);
    });
  }

  function wire() {
    var btn = document.getElementById("passkey-sign-in");
    if (btn) {
      btn.addEventListener("click", function () { signIn(btn, ""); });
    }
    var use = document.getElementById("use-passkey");
    if (use) {
      use.addEventListener("click", function () { signIn(use, use.dataset.mfaToken); });
    }
    var add = document.getElementById("passkey-add-form");
    if (add) {
      add.addEventListener("submit", function (ev) {
        ev.preventDefault();
        addPasskey(add);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
