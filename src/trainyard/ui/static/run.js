// The run page: metric charts, the lazily loaded file tree, and the live log.
"use strict";

(function () {
  const charts = document.getElementById("charts");
  if (charts) window.TrainyardCharts.loadAll(charts, null);

  // ---------------------------------------------------------------- files: expand a folder
  const tree = document.getElementById("file-tree");
  function human(n) {
    if (n == null) return "";
    const units = ["B", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
  }
  function encodePath(p) { return p.split("/").map(encodeURIComponent).join("/"); }
  function item(entry) {
    const li = document.createElement("li");
    const name = entry.path.split("/").pop();
    if (entry.is_dir) {
      li.className = "dir";
      const details = document.createElement("details");
      details.dataset.path = entry.path;
      const summary = document.createElement("summary");
      summary.textContent = `${name}/`;
      const ul = document.createElement("ul");
      ul.className = "tree";
      details.append(summary, ul);
      li.append(details);
      watch(details);
    } else {
      li.className = "file";
      const view = document.createElement("a");
      view.href = tree.dataset.viewBase + encodePath(entry.path);
      view.textContent = name;
      const size = document.createElement("span");
      size.className = "size";
      size.textContent = human(entry.size);
      const dl = document.createElement("a");
      dl.className = "download";
      dl.href = tree.dataset.downloadBase + encodePath(entry.path);
      dl.setAttribute("download", "");
      dl.setAttribute("aria-label", `Download ${entry.path}`);
      dl.textContent = "Download";
      li.append(view, size, dl);
    }
    return li;
  }
  function watch(details) {
    details.addEventListener("toggle", async () => {
      if (!details.open || details.dataset.loaded) return;
      details.dataset.loaded = "true";
      const ul = details.querySelector("ul");
      try {
        const url = `${tree.dataset.listUrl}?path=${encodeURIComponent(details.dataset.path)}`;
        const body = await window.trainyardFetchJSON(url);
        for (const f of body.files) ul.append(item(f));
        if (!body.files.length) ul.append(Object.assign(document.createElement("li"), { textContent: "(empty)", className: "muted" }));
      } catch (err) {
        ul.append(Object.assign(document.createElement("li"), { textContent: err.message, className: "muted" }));
        delete details.dataset.loaded;
      }
    });
  }
  if (tree) tree.querySelectorAll("details[data-path]").forEach(watch);

  // ---------------------------------------------------------------- log: follow while running
  const panel = document.getElementById("log-panel");
  if (!panel) return;
  const pre = document.getElementById("log");
  const state = document.getElementById("log-state");
  const MAX_CHARS = 2000000;
  let offset = 0;

  async function poll() {
    let body;
    try {
      body = await window.trainyardFetchJSON(`${panel.dataset.url}?offset=${offset}`);
    } catch (err) {
      state.textContent = `cannot read the log: ${err.message}; retrying`;
      setTimeout(poll, 5000);
      return;
    }
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    if (body.reset) pre.textContent = "";
    if (body.text) {
      pre.append(document.createTextNode(body.text));
      if (pre.textContent.length > MAX_CHARS) pre.textContent = pre.textContent.slice(-MAX_CHARS / 2);
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    offset = body.offset;
    panel.dataset.offset = String(offset);
    const behind = body.path && offset < body.size;
    if (body.terminal && !behind) {
      panel.dataset.done = "true";
      state.textContent = body.path ? `${body.path} · run ${body.status.toLowerCase()}` : `no log · run ${body.status.toLowerCase()}`;
      return;
    }
    state.textContent = body.path ? `${body.path} · following (run ${body.status.toLowerCase()})` : "waiting for logs/stdout.log…";
    setTimeout(poll, behind ? 0 : 1000);
  }
  poll();
})();
