// Trainyard web studio: behaviour shared by every page (no framework, no build).
"use strict";

(function () {
  // Times are rendered in UTC by the server; show them in the browser's time zone too.
  for (const el of document.querySelectorAll("time[data-ms]")) {
    const d = new Date(Number(el.dataset.ms));
    el.title = el.textContent;
    el.textContent = d.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  }

  // <select data-navigate>: the chosen option's value is a URL.
  for (const sel of document.querySelectorAll("select[data-navigate]")) {
    sel.addEventListener("change", () => { window.location.href = sel.value; });
  }

  // <select data-autosubmit>: submit its form on change.
  for (const sel of document.querySelectorAll("select[data-autosubmit]")) {
    sel.addEventListener("change", () => sel.form.submit());
  }

  // Runs table: select runs (or all on the page), then Compare.
  const compareButton = document.getElementById("compare-button");
  if (compareButton) {
    const boxes = () => Array.from(document.querySelectorAll('input[name="runs"][form="compare-form"]'));
    const all = document.getElementById("select-all");
    const update = () => {
      const n = boxes().filter((b) => b.checked).length;
      compareButton.disabled = n === 0;
      compareButton.textContent = n ? `Compare ${n} selected` : "Compare selected";
      if (all) {
        all.checked = n > 0 && n === boxes().length;
        all.indeterminate = n > 0 && n < boxes().length;
      }
    };
    for (const b of boxes()) b.addEventListener("change", update);
    if (all) {
      all.addEventListener("change", () => {
        for (const b of boxes()) b.checked = all.checked;
        update();
      });
    }
    // Send one ?runs=a,b,c rather than a repeated parameter: shorter links to share.
    document.getElementById("compare-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const ids = boxes().filter((b) => b.checked).map((b) => b.value);
      const action = ev.target.getAttribute("action");
      window.location.href = `${action}?runs=${ids.map(encodeURIComponent).join(",")}`;
    });
    update();
  }
})();

// fetch JSON; a non-2xx answer throws an Error carrying the API's own message.
window.trainyardFetchJSON = async function (url) {
  const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    const msg = body && body.error ? body.error.message : `${resp.status} ${resp.statusText}`;
    throw new Error(msg);
  }
  return body;
};
