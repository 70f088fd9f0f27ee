// Metric charts of the run and compare pages, drawn with the bundled Plotly.
// Each <div class="chart" data-url="..."> fetches a downsampled series (ui_api.py) and draws
// one line per run; the "X axis" select switches between step and wall time without refetching.
"use strict";

window.TrainyardCharts = (function () {
  const PALETTE = ["#2457c5", "#e4572e", "#17a398", "#f3a712", "#8e44ad", "#29335c",
    "#db2b39", "#669bbc", "#55a630", "#9c6644"];
  const CONFIG = { responsive: true, displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
  const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1d2330" };

  function color(i) { return PALETTE[i % PALETTE.length]; }

  function layout(title, xMode, extra) {
    return Object.assign({
      title: { text: title, x: 0.02, font: { size: 14 } },
      margin: { l: 56, r: 16, t: 40, b: 44 },
      font: FONT,
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
      hovermode: "x unified",
      xaxis: { title: { text: xMode === "time" ? "time" : "step" }, gridcolor: "#eef0f3", zeroline: false,
        type: xMode === "time" ? "date" : "linear" },
      yaxis: { gridcolor: "#eef0f3", zeroline: false, automargin: true },
      showlegend: false,
    }, extra || {});
  }

  function traces(series, xMode) {
    return series.map((s, i) => ({
      type: "scatter",
      mode: s.y.length > 1 ? "lines" : "markers",
      name: s.name,
      x: xMode === "time" ? s.t.map((ms) => new Date(ms)) : s.x,
      y: s.y,
      line: { color: color(s.colorIndex ?? i), width: 1.6 },
      marker: { color: color(s.colorIndex ?? i), size: 7 },
      connectgaps: false,
    }));
  }

  // A metric logged once per run (a final score) reads better as bars than as lone dots.
  function bars(series) {
    return series.map((s, i) => ({
      type: "bar",
      width: series.length === 1 ? 0.35 : undefined,
      name: s.name,
      x: [s.name],
      y: s.y,
      marker: { color: color(s.colorIndex ?? i) },
      hovertemplate: `%{y}<extra>step ${s.x[0]}</extra>`,
    }));
  }

  function note(div, text, isError) {
    const cap = div.parentElement.querySelector(".chart-note");
    if (!cap) return;
    cap.textContent = text;
    cap.classList.toggle("error", Boolean(isError));
  }

  function describe(series) {
    const thinned = series.filter((s) => s.total > s.y.length);
    if (!thinned.length) return "";
    const shown = thinned.reduce((a, s) => a + s.y.length, 0);
    const total = thinned.reduce((a, s) => a + s.total, 0);
    return `${shown.toLocaleString()} of ${total.toLocaleString()} points drawn (min and max of each bucket kept); the full history is in the CSV.`;
  }

  function draw(div, xMode) {
    const series = div._series;
    if (!series) return;
    const multi = series.length > 1 || div.dataset.multi === "true";
    const single = series.length > 0 && series.every((s) => s.y.length === 1);
    let extra = {};
    if (single) {
      extra = { hovermode: "closest", bargap: 0.45,
        xaxis: { type: "category", gridcolor: "#eef0f3", automargin: true } };
    } else if (multi) {
      extra = { showlegend: true, legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
        margin: { l: 56, r: 16, t: 40, b: 90 } };
    }
    Plotly.react(div, single ? bars(series) : traces(series, xMode),
      layout(div.dataset.key, xMode, extra), CONFIG);
  }

  // Fetch every chart's series, four at a time, and draw each as it arrives.
  async function loadAll(root, runOrder) {
    const divs = Array.from(root.querySelectorAll(".chart[data-url]"));
    const xSelect = document.getElementById("x-axis");
    const xMode = () => (xSelect ? xSelect.value : "step");
    let next = 0;
    async function worker() {
      while (next < divs.length) {
        const div = divs[next++];
        try {
          const body = await window.trainyardFetchJSON(div.dataset.url);
          const series = body.series ? body.series : [Object.assign({ name: body.key }, body)];
          if (runOrder) {
            for (const s of series) s.colorIndex = runOrder.indexOf(s.run_id);
            div.dataset.multi = "true";
          }
          div._series = series;
          draw(div, xMode());
          note(div, describe(series));
        } catch (err) {
          note(div, `Could not load ${div.dataset.key}: ${err.message}`, true);
        }
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (xSelect) xSelect.addEventListener("change", () => divs.forEach((d) => draw(d, xMode())));
    root.dataset.loaded = "true";
  }

  return { loadAll, color, layout, CONFIG, FONT };
})();
