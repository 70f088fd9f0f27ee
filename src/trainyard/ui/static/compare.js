// The compare page: one chart per metric (a line per run) and parallel coordinates.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("compare-data").textContent);
  const order = data.runs.map((r) => r.run_id);
  const C = window.TrainyardCharts;

  for (const sw of document.querySelectorAll(".swatch[data-index]")) {
    sw.style.background = C.color(Number(sw.dataset.index));
  }
  const charts = document.getElementById("charts");
  if (charts) C.loadAll(charts, order);

  // ------------------------------------------------ parallel coordinates: params -> metric
  const pc = document.getElementById("parcoords");
  const pick = document.getElementById("pc-metric");
  if (!pc || !pick) return;

  function dimension(label, raw) {
    const nums = raw.map((v) => (v === null || v === undefined || v === "" ? NaN : Number(v)));
    if (nums.every((n) => Number.isFinite(n))) return { label, values: nums };
    const cats = Array.from(new Set(raw.map((v) => (v == null ? "—" : String(v))))).sort();
    return {
      label,
      values: raw.map((v) => cats.indexOf(v == null ? "—" : String(v))),
      tickvals: cats.map((_, i) => i),
      ticktext: cats,
      range: [0, Math.max(cats.length - 1, 1)],
    };
  }

  function drawParcoords() {
    const metric = pick.value;
    const runs = data.runs.filter((r) => r.metrics[metric] !== undefined && r.metrics[metric] !== null);
    const keys = data.differing.length ? data.differing
      : Array.from(new Set(runs.flatMap((r) => Object.keys(r.params)))).sort();
    const dims = keys.map((k) => dimension(k, runs.map((r) => r.params[k])));
    const values = runs.map((r) => r.metrics[metric]);
    dims.push({ label: metric, values });
    Plotly.react(pc, [{
      type: "parcoords",
      line: { color: values, colorscale: "Viridis", showscale: true, colorbar: { title: { text: metric } } },
      dimensions: dims,
    }], {
      margin: { l: 70, r: 90, t: 50, b: 30 },
      font: C.FONT,
      paper_bgcolor: "#fff",
    }, C.CONFIG);
    pc.dataset.dimensions = String(dims.length);
  }
  pick.addEventListener("change", drawParcoords);
  drawParcoords();
})();
