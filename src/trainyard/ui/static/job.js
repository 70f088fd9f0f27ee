// The job page: show the end of its log tails; while the job is live, refresh them every
// few seconds until it ends.
"use strict";

(function () {
  const panel = document.getElementById("job-log-panel");
  if (!panel) return;
  const state = document.getElementById("job-log-state");
  const pres = { stdout: document.getElementById("job-stdout"), stderr: document.getElementById("job-stderr") };
  for (const pre of Object.values(pres)) pre.scrollTop = pre.scrollHeight;
  if (panel.dataset.terminal === "true") return;
  const EVERY_MS = 3000;

  function show(pre, text) {
    if (pre.textContent === text) return;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.textContent = text;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  async function refresh() {
    let body;
    try {
      body = await window.trainyardFetchJSON(panel.dataset.url);
    } catch (err) {
      state.textContent = `cannot read the log: ${err.message}; retrying`;
      setTimeout(refresh, EVERY_MS * 2);
      return;
    }
    show(pres.stdout, body.stdout);
    show(pres.stderr, body.stderr);
    const status = body.status.toLowerCase();
    if (body.terminal) {
      panel.dataset.done = "true";
      state.textContent = `last ${body.lines} lines · job ${status} (reload for its final details)`;
      return;
    }
    state.textContent = `last ${body.lines} lines · refreshing while the job is ${status}`;
    setTimeout(refresh, EVERY_MS);
  }
  setTimeout(refresh, EVERY_MS);
})();
