// The Analytics charts. The CSP allows no inline script, so each page puts its numbers in a
// <script type="application/json"> block (Django's json_script) and marks the canvas with
// data-chart="<kind>" data-source="<id of that block>"; this file draws them with Chart.js.
(function () {
  "use strict";

  var INK = "#1f2933";
  var ACCENT = "#1d4ed8";
  var OK = "#047857";
  var GRID = "#d9e2ec";
  var LONG_LABEL = 28;

  function percentTick(value) { return value + "%"; }

  function shortLabel(label) {
    return label.length > LONG_LABEL ? label.slice(0, LONG_LABEL - 1) + "\u2026" : label;
  }

  function fmt(value) { return value === null || value === undefined ? "\u2014" : value.toFixed(1) + "%"; }

  // Whiskers for the 95% interval of each bar: Chart.js has no error bars of its own.
  var intervalWhiskers = {
    id: "intervalWhiskers",
    afterDatasetsDraw: function (chart) {
      var dataset = chart.data.datasets[0];
      var meta = chart.getDatasetMeta(0);
      if (!dataset.low || meta.hidden) { return; }
      var scale = chart.scales.x;
      var ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = INK;
      ctx.lineWidth = 1.5;
      meta.data.forEach(function (bar, i) {
        var low = scale.getPixelForValue(dataset.low[i]);
        var high = scale.getPixelForValue(dataset.high[i]);
        var cap = Math.min(6, bar.height / 3);
        ctx.beginPath();
        ctx.moveTo(low, bar.y); ctx.lineTo(high, bar.y);
        ctx.moveTo(low, bar.y - cap); ctx.lineTo(low, bar.y + cap);
        ctx.moveTo(high, bar.y - cap); ctx.lineTo(high, bar.y + cap);
        ctx.stroke();
      });
      ctx.restore();
    },
  };

  function conversionChart(canvas, data) {
    // One bar per strategy needs room: the box grows with the list (CSSOM, which the CSP allows).
    canvas.parentElement.style.height = Math.max(160, data.labels.length * 38 + 70) + "px";
    var top = Math.max.apply(null, data.high.concat([10]));
    return {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Conversion rate",
          data: data.rates,
          low: data.low,
          high: data.high,
          backgroundColor: ACCENT,
          maxBarThickness: 26,
        }],
      },
      plugins: [intervalWhiskers],
      options: {
        indexAxis: "y",
        scales: {
          x: { min: 0, max: Math.min(100, Math.ceil(top / 10) * 10), ticks: { callback: percentTick }, grid: { color: GRID } },
          y: { ticks: { callback: function (value) { return shortLabel(this.getLabelForValue(value)); } }, grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var i = item.dataIndex;
                return fmt(data.rates[i]) + " (95% interval " + fmt(data.low[i]) + " to " +
                  fmt(data.high[i]) + ") of " + data.started[i] + " started";
              },
            },
          },
        },
      },
    };
  }

  function funnelChart(canvas, data) {
    return {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Reached", data: data.reached, backgroundColor: ACCENT, maxBarThickness: 40 },
          { label: "Completed", data: data.completed, backgroundColor: OK, maxBarThickness: 40 },
        ],
      },
      options: {
        scales: {
          x: { ticks: { callback: function (value) { return shortLabel(this.getLabelForValue(value)); } }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: GRID } },
        },
        plugins: { legend: { position: "bottom" } },
      },
    };
  }

  function adherenceChart(canvas, data) {
    return {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Done on time",
          data: data.adherence,
          borderColor: ACCENT,
          backgroundColor: ACCENT,
          pointRadius: 3,
          spanGaps: true,
        }],
      },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
          y: { min: 0, max: 100, ticks: { callback: percentTick }, grid: { color: GRID } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) { return "Week of " + items[0].label; },
              label: function (item) {
                return fmt(item.raw) + " on time of " + data.due[item.dataIndex] + " due";
              },
            },
          },
        },
      },
    };
  }

  var KINDS = { conversion: conversionChart, funnel: funnelChart, adherence: adherenceChart };

  function draw(canvas) {
    var make = KINDS[canvas.dataset.chart];
    var source = document.getElementById(canvas.dataset.source);
    if (!make || !source || typeof Chart === "undefined" || Chart.getChart(canvas)) { return; }
    var config = make(canvas, JSON.parse(source.textContent));
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      config.options.animation = false;
    }
    new Chart(canvas, config);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Chart !== "undefined") {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.color = INK;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
