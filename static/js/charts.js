/* The dashboard's charts, drawn with Chart.js (static/vendor) from the figures the page
   carries in its JSON block (#dashboard-charts). Each chart's table stays in the page for
   screen readers (hidden from view once the chart is drawn; the month-by-month table
   stays in view); without scripts the tables are all there is. Colours follow the page's light or dark scheme, also when it changes. */
(function () {
  "use strict";

  var block = document.getElementById("dashboard-charts");
  if (!block || !window.Chart) {
    return;
  }
  var payload = JSON.parse(block.textContent);
  // Distinguishable in both schemes, and for the common kinds of colour blindness.
  var PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#06b6d4",
    "#84cc16", "#ec4899", "#64748b"];
  var euro = new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR" });
  var drawn = [];

  function schemeColours() {
    var style = getComputedStyle(document.body);
    return {
      text: style.color,
      grid: style.getPropertyValue("--pico-muted-border-color").trim() || "rgba(128,128,128,0.3)"
    };
  }

  function axis(colours, extra) {
    var scale = {
      ticks: { color: colours.text },
      grid: { color: colours.grid },
      border: { color: colours.grid }
    };
    return Object.assign(scale, extra || {});
  }

  function money(value) {
    return euro.format(value);
  }

  function splitConfig(spec, colours) {
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [{
          label: spec.datasets[0].label,
          data: spec.datasets[0].data,
          backgroundColor: spec.labels.map(function (_, i) { return PALETTE[i % PALETTE.length]; })
        }]
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return money(c.parsed.x); } } } },
        scales: {
          x: axis(colours, { beginAtZero: true, ticks: { color: colours.text, callback: money } }),
          y: axis(colours)
        }
      }
    };
  }

  function historyConfig(spec, colours) {
    var spend = spec.datasets[0];
    var owned = spec.datasets[1];
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [
          { type: "bar", label: spend.label, data: spend.data, yAxisID: "money",
            backgroundColor: PALETTE[0], order: 2 },
          { type: "line", label: owned.label, data: owned.data, yAxisID: "count",
            borderColor: PALETTE[1], backgroundColor: PALETTE[1], order: 1 }
        ]
      },
      options: {
        plugins: { legend: { labels: { color: colours.text } } },
        scales: {
          x: axis(colours),
          money: axis(colours, { position: "left", beginAtZero: true,
            ticks: { color: colours.text, callback: money } }),
          count: axis(colours, { position: "right", beginAtZero: true,
            grid: { drawOnChartArea: false }, ticks: { color: colours.text, precision: 0 } })
        }
      }
    };
  }

  function changesConfig(spec, colours) {
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) {
          return { label: set.label, data: set.data, backgroundColor: PALETTE[i === 0 ? 2 : 4] };
        })
      },
      options: {
        plugins: { legend: { labels: { color: colours.text } } },
        scales: {
          x: axis(colours),
          y: axis(colours, { beginAtZero: true, ticks: { color: colours.text, precision: 0 } })
        }
      }
    };
  }

  var BUILDERS = { split: splitConfig, history: historyConfig, changes: changesConfig };

  function draw() {
    var colours = schemeColours();
    drawn.forEach(function (chart) { chart.destroy(); });
    drawn = [];
    payload.charts.forEach(function (spec) {
      var figure = document.querySelector('[data-chart="' + spec.id + '"]');
      if (!figure || !spec.labels.length) {
        return;
      }
      var holder = figure.querySelector(".chart-canvas");
      var config = BUILDERS[spec.kind](spec, colours);
      config.options.animation = false;
      config.options.responsive = true;
      config.options.maintainAspectRatio = false;
      holder.hidden = false;
      drawn.push(new window.Chart(holder.querySelector("canvas"), config));
    });
    // A chart's table stays for screen readers; only its looks give way to the chart.
    // (The month-by-month table stays in view: it is read for the exact figures.)
    document.querySelectorAll("[data-figures-of]").forEach(function (figures) {
      var chart = document.querySelector(
        '[data-chart="' + figures.getAttribute("data-figures-of") + '"] .chart-canvas');
      if (chart && !chart.hidden && figures.querySelector("table")) {
        figures.classList.add("visually-hidden");
      }
    });
  }

  draw();
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  }
}());
