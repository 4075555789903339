/* cablelake charts: a tiny dependency-free SVG chart renderer (part of cablelake, MIT licence).
 *
 * Charts.stacked(el, {labels, series: [{name, values, color}], ...})  vertical (stacked) bars
 * Charts.hbars(el, {items: [{label, value, color, note}], ...})        horizontal bars, sorted as given
 *
 * Every bar is an SVG <rect> with data-label / data-series / data-value attributes and a <title>
 * (native tooltip), the SVG has role="img" and an aria-label, and each chart gets a data table
 * (in a <details>) so the numbers are readable without the picture. Data is inserted with textContent
 * and setAttribute only, never as HTML.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";

  function svgEl(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (attrs && attrs.fill) e.style.fill = attrs.fill; // CSS, so that var(--colour) works everywhere
    if (parent) parent.appendChild(e);
    return e;
  }

  function htmlEl(name, attrs, parent, text) {
    var e = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }

  var fmt = new Intl.NumberFormat("en-US");
  function num(n) { return fmt.format(n); }

  /* Axis scale for counts: a whole "nice" step (1, 2, 5 x 10^k) and a max that is a multiple of it. */
  function scale(v) {
    var raw = Math.max(1, v) / 4;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (k) { return k * p; }).filter(function (s) { return s >= raw; })[0];
    step = Math.max(1, step);
    return { step: step, max: Math.max(step, Math.ceil(v / step) * step) };
  }

  function dataTable(el, caption, head, rows) {
    var det = htmlEl("details", { "class": "chart-data" }, el);
    htmlEl("summary", {}, det, "Data table");
    var wrap = htmlEl("div", { "class": "table-scroll" }, det);
    var t = htmlEl("table", {}, wrap);
    htmlEl("caption", {}, t, caption);
    var tr = htmlEl("tr", {}, htmlEl("thead", {}, t));
    head.forEach(function (h) { htmlEl("th", { scope: "col" }, tr, h); });
    var tb = htmlEl("tbody", {}, t);
    rows.forEach(function (r) {
      var row = htmlEl("tr", {}, tb);
      r.forEach(function (c, i) { htmlEl(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}, row, c); });
    });
  }

  function legend(el, series) {
    var ul = htmlEl("ul", { "class": "legend", "aria-label": "Legend" }, el);
    series.forEach(function (s) {
      var li = htmlEl("li", {}, ul);
      htmlEl("span", { "class": "swatch", "aria-hidden": "true" }, li).style.background = s.color;
      htmlEl("span", {}, li, s.name);
    });
  }

  /* Vertical stacked bars. opts: labels, series [{name, values, color}], title, chart (id for data-chart),
   * tickEvery (label every n-th bar; auto), height, valueName. */
  function stacked(el, opts) {
    var labels = opts.labels, series = opts.series;
    var W = Math.max(640, el.clientWidth || 900), H = opts.height || 300;
    var m = { top: 12, right: 12, bottom: 46, left: 52 };
    var iw = W - m.left - m.right, ih = H - m.top - m.bottom;
    var totals = labels.map(function (_, i) {
      return series.reduce(function (a, s) { return a + (s.values[i] || 0); }, 0);
    });
    var sc = scale(Math.max.apply(null, totals.concat([0])));
    var max = sc.max;
    var grand = totals.reduce(function (a, b) { return a + b; }, 0);
    var svg = svgEl("svg", {
      viewBox: "0 0 " + W + " " + H, width: "100%", role: "img", "class": "chart",
      "data-chart": opts.chart, "data-total": grand,
      "aria-label": opts.title + ": " + num(grand) + " in " + labels.length + " bars"
    }, el);
    var g = svgEl("g", { transform: "translate(" + m.left + "," + m.top + ")" }, svg);
    for (var t = 0; t <= max; t += sc.step) {
      var y = ih - (ih * t) / max;
      svgEl("line", { x1: 0, x2: iw, y1: y, y2: y, "class": "grid" }, g);
      svgEl("text", { x: -8, y: y + 4, "class": "tick", "text-anchor": "end" }, g).textContent = num(t);
    }
    var band = iw / Math.max(1, labels.length);
    var bw = Math.min(64, Math.max(1, band * (band > 6 ? 0.8 : 0.92)));
    var every = opts.tickEvery || Math.max(1, Math.ceil(labels.length / Math.floor(iw / 56)));
    labels.forEach(function (label, i) {
      var x = i * band + (band - bw) / 2;
      var bar = svgEl("g", { "class": "bar", "data-label": label, "data-total": totals[i] }, g);
      var y0 = ih;
      series.forEach(function (s) {
        var v = s.values[i] || 0;
        if (!v) return;
        var h = (v / max) * ih;
        y0 -= h;
        var r = svgEl("rect", {
          x: x.toFixed(2), y: y0.toFixed(2), width: bw.toFixed(2), height: Math.max(h, 0.5).toFixed(2),
          fill: s.color, "data-label": label, "data-series": s.name, "data-value": v
        }, bar);
        svgEl("title", {}, r).textContent = label + " · " + s.name + ": " + num(v);
      });
      if (i % every === 0) {
        svgEl("text", { x: x + bw / 2, y: ih + 16, "class": "tick", "text-anchor": "middle" }, g).textContent = label;
      }
    });
    svgEl("line", { x1: 0, x2: iw, y1: ih, y2: ih, "class": "axis" }, g);
    if (opts.xTitle) {
      svgEl("text", { x: iw / 2, y: ih + 38, "class": "axis-title", "text-anchor": "middle" }, g).textContent = opts.xTitle;
    }
    if (series.length > 1 || opts.legend) legend(el, series);
    var head = [opts.labelName || "label"].concat(series.length > 1 ? series.map(function (s) { return s.name; }) : []).concat(["total"]);
    var rows = labels.map(function (l, i) {
      var r = [l];
      if (series.length > 1) series.forEach(function (s) { r.push(num(s.values[i] || 0)); });
      r.push(num(totals[i]));
      return r;
    }).filter(function (r, i) { return totals[i] > 0; });
    dataTable(el, opts.title, head, rows);
    return svg;
  }

  /* Horizontal bars. opts: items [{label, value, color, note}], title, chart, valueName. */
  function hbars(el, opts) {
    var items = opts.items;
    var rowH = 22, W = Math.max(420, el.clientWidth || 600);
    var labelW = Math.min(240, Math.max(80, 7.2 * Math.max.apply(null, items.map(function (d) { return String(d.label).length; }).concat([4]))));
    var m = { top: 4, right: 64, bottom: 4, left: labelW + 8 };
    var H = m.top + m.bottom + rowH * items.length;
    var iw = W - m.left - m.right;
    var max = Math.max.apply(null, items.map(function (d) { return d.value; }).concat([1]));
    var svg = svgEl("svg", {
      viewBox: "0 0 " + W + " " + Math.max(H, 24), width: "100%", role: "img", "class": "chart hbars",
      "data-chart": opts.chart, "aria-label": opts.title + ": " + items.length + " bars"
    }, el);
    if (!items.length) {
      svgEl("text", { x: 8, y: 16, "class": "empty" }, svg).textContent = "No data yet.";
    }
    items.forEach(function (d, i) {
      var y = m.top + i * rowH;
      var gEl = svgEl("g", { "class": "bar", "data-label": d.label, "data-value": d.value }, svg);
      var lab = svgEl("text", { x: m.left - 8, y: y + rowH / 2 + 4, "text-anchor": "end", "class": "bar-label" }, gEl);
      lab.textContent = String(d.label).length > 34 ? String(d.label).slice(0, 33) + "…" : d.label;
      var w = Math.max(1, (d.value / max) * iw);
      var r = svgEl("rect", {
        x: m.left, y: y + 3, width: w.toFixed(2), height: rowH - 6, rx: 2, fill: d.color || "var(--accent)",
        "data-label": d.label, "data-value": d.value
      }, gEl);
      svgEl("title", {}, r).textContent = d.label + (d.note ? " (" + d.note + ")" : "") + ": " + num(d.value);
      svgEl("text", { x: m.left + w + 6, y: y + rowH / 2 + 4, "class": "bar-value" }, gEl).textContent = num(d.value);
    });
    if (opts.legend) legend(el, opts.legend);
    dataTable(el, opts.title, [opts.labelName || "label"].concat(opts.noteName ? [opts.noteName] : []).concat([opts.valueName || "count"]),
      items.map(function (d) { return [d.label].concat(opts.noteName ? [d.note || ""] : []).concat([num(d.value)]); }));
    return svg;
  }

  window.Charts = { stacked: stacked, hbars: hbars, num: num, el: htmlEl };
})();
