// jumphost console client: CSRF header for htmx, confirmations, live terminal (xterm.js over SSE),
// and the recording player. Loaded with `defer`; no inline scripts anywhere (CSP script-src 'self').
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") : null;

  document.body.addEventListener("htmx:configRequest", function (e) {
    if (csrf) e.detail.headers["X-CSRF-Token"] = csrf;
  });

  // <form data-confirm="..."> asks before submitting
  document.addEventListener("submit", function (e) {
    const form = e.target;
    const q = form && form.getAttribute && form.getAttribute("data-confirm");
    if (q && !globalThis.confirm(q)) e.preventDefault();
  }, true);

  // <button data-copy="#id"> copies that field's text (the backend key's public half)
  document.addEventListener("click", function (e) {
    const btn = e.target && e.target.closest ? e.target.closest("[data-copy]") : null;
    const field = btn && document.querySelector(btn.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    const done = function () {
      btn.textContent = "Copied";
    };
    // the field is selected either way, so Ctrl+C works where the clipboard API is refused
    const fallback = function () {
      if (document.execCommand("copy")) done();
    };
    if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, fallback);
    else fallback();
  });

  function startLive(el) {
    const Terminal = globalThis.Terminal;
    if (!Terminal) return;
    const cols = Number(el.getAttribute("data-cols")) || 80;
    const rows = Number(el.getAttribute("data-rows")) || 24;
    const term = new Terminal({
      cols: cols,
      rows: rows,
      convertEol: false,
      disableStdin: true,
      scrollback: 5000,
    });
    term.open(el);
    const status = document.getElementById("live-status");
    const setStatus = function (t) {
      if (status) status.textContent = t;
      el.setAttribute("data-state", t);
    };
    setStatus("connecting");
    const es = new EventSource(el.getAttribute("data-src"));
    es.addEventListener("open", function () {
      setStatus("live");
    });
    es.addEventListener("header", function (ev) {
      const h = JSON.parse(ev.data);
      if (h.width && h.height) term.resize(h.width, h.height);
    });
    es.addEventListener("o", function (ev) {
      term.write(JSON.parse(ev.data));
      el.setAttribute("data-bytes", String(Number(el.getAttribute("data-bytes") || 0) + ev.data.length));
    });
    es.addEventListener("r", function (ev) {
      const m = /^(\d+)x(\d+)$/.exec(JSON.parse(ev.data));
      if (m) term.resize(Number(m[1]), Number(m[2]));
    });
    es.addEventListener("end", function () {
      setStatus("ended");
      es.close();
    });
    // the console session ended (logout, expiry, password change): stop instead of reconnecting
    es.addEventListener("logged_out", function () {
      setStatus("stopped: your console session ended, reload to log in again");
      es.close();
    });
    es.addEventListener("error", function () {
      if (es.readyState === EventSource.CLOSED) setStatus("disconnected");
    });
    globalThis.jhLiveTerminal = term;
  }

  function startPlayer(el) {
    const P = globalThis.AsciinemaPlayer;
    if (!P) return;
    const opts = { fit: "width", idleTimeLimit: 3, controls: true };
    // a search hit opens the replay at its moment
    const at = Number(el.getAttribute("data-start-at"));
    if (el.hasAttribute("data-start-at") && isFinite(at)) {
      opts.startAt = at;
      // show the screen as it was at that moment before play is pressed, not a blank terminal
      opts.poster = "npt:" + at;
    }
    P.create(el.getAttribute("data-src"), el, opts);
    el.setAttribute("data-state", "created");
  }

  function init(root) {
    root.querySelectorAll("[data-live-term]").forEach(startLive);
    root.querySelectorAll("[data-player]").forEach(startPlayer);
  }
  init(document);
})();
