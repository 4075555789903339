/* cablelake dashboard page: draws the charts and the searchable table from window.CABLELAKE_DATA
 * (written by etl/dashboard into data.js beside index.html, so the page works from file://). */
(function () {
  "use strict";
  var D = window.CABLELAKE_DATA;
  var C = window.Charts;
  var num = C.num, el = C.el;

  function $(id) { return document.getElementById(id); }

  function setText(id, text) { var e = $(id); if (e) e.textContent = text; }

  if (!D) {
    setText("status", "No data: data.js is missing. Rebuild with `cablelake dashboard`.");
    return;
  }

  // ------------------------------------------------------------------ header figures
  var T = D.totals;
  setText("generated", D.generated_at);
  setText("lake", D.lake);
  var kpis = [
    ["cables", T.cables, "kpi-cables"],
    ["quarantined", T.quarantined, "kpi-quarantined"],
    ["rows with warnings", T.warned, "kpi-warned"],
    ["runs", T.runs, "kpi-runs"],
    ["origins", T.origins, "kpi-origins"],
    ["distinct TAGS", T.tags, "kpi-tags"]
  ];
  var kl = $("kpis");
  kpis.forEach(function (k) {
    var li = el("li", { "class": "kpi", id: k[2], "data-value": k[1] }, kl);
    el("span", { "class": "kpi-value" }, li, num(k[1]));
    el("span", { "class": "kpi-label" }, li, k[0]);
  });
  setText("span", T.first_sent ? T.first_sent + " – " + T.last_sent : "no dated cables yet");

  // ------------------------------------------------------------------ charts
  var palette = D.palette;
  function colorOf(name, i) { return palette[name] || D.fallback_colors[i % D.fallback_colors.length]; }

  var pm = D.per_month;
  var monthly = $("chart-months");
  var byYear = false;
  function drawMonths() {
    monthly.textContent = "";
    var labels = byYear ? pm.years : pm.months;
    var series = pm.series.map(function (s, i) {
      return { name: s.name, color: colorOf(s.name, i), values: byYear ? s.per_year : s.values };
    });
    C.stacked(monthly, {
      labels: labels, series: series, chart: byYear ? "per-year" : "per-month", legend: true,
      title: "Cables per " + (byYear ? "year" : "month") + " by classification",
      labelName: byYear ? "year" : "month", xTitle: byYear ? "year sent (UTC)" : "month sent (UTC)"
    });
  }
  var toggle = $("months-toggle");
  toggle.addEventListener("click", function () {
    byYear = !byYear;
    toggle.setAttribute("aria-pressed", String(byYear));
    toggle.textContent = byYear ? "Show per month" : "Show per year";
    drawMonths();
  });
  drawMonths();
  var notes = [];
  if (pm.before_window) notes.push("The monthly view starts at " + pm.months[0] + ": the " + num(pm.before_window) +
    " older cables are in the per-year view.");
  if (pm.undated) notes.push(num(pm.undated) + " cables have no date and are in neither view.");
  setText("months-note", notes.join(" "));

  setText("origins-note", T.no_origin ? num(T.no_origin) + " cables have no origin." : "");
  C.hbars($("chart-origins"), {
    chart: "origins", title: "Top origins", labelName: "origin",
    items: D.top_origins.map(function (d) { return { label: d.origin, value: d.n }; })
  });

  var kinds = D.tag_kinds;
  C.hbars($("chart-tags"), {
    chart: "tags", title: "Top TAGS", labelName: "TAG", noteName: "kind",
    items: D.top_tags.map(function (d) {
      return { label: d.tag, value: d.n, note: d.kind || "", color: colorOf("kind:" + (d.kind || "unknown"), kinds.indexOf(d.kind || "unknown")) };
    }),
    legend: kinds.length > 1 ? kinds.map(function (k, i) { return { name: k, color: colorOf("kind:" + k, i) }; }) : null
  });

  var decl = D.decl_per_year;
  C.stacked($("chart-decl"), {
    chart: "decl", title: "Declassification due per year", labelName: "year", xTitle: "year of the DECL date",
    labels: decl.map(function (d) { return String(d.year); }),
    series: [
      { name: "due (date passed)", color: "var(--due-past)", values: decl.map(function (d) { return d.year <= D.this_year ? d.n : 0; }) },
      { name: "due later", color: "var(--due-future)", values: decl.map(function (d) { return d.year > D.this_year ? d.n : 0; }) }
    ],
    legend: true
  });
  setText("decl-note", num(T.decl_dated) + " cables have a declassification date; " + num(T.decl_undated) +
    " have none or a non-date instruction (N/A, OADR, 25X1…).");

  var Q = D.quality;
  C.hbars($("chart-warnings"), {
    chart: "warnings", title: "Warnings per rule (rows kept)", labelName: "rule",
    items: Q.warnings.map(function (d) { return { label: d.rule, value: d.n, color: "var(--warn)" }; })
  });
  C.hbars($("chart-quarantine"), {
    chart: "quarantine", title: "Quarantined records per reason", labelName: "reason",
    items: Q.quarantine.map(function (d) { return { label: d.reason, value: d.n, color: "var(--bad)" }; })
  });
  var runs = Q.runs;
  var rules = Q.run_rules;
  C.stacked($("chart-runs"), {
    chart: "runs", title: "Rule failures per run", labelName: "run",
    labels: runs.map(function (r) { return r.run_id; }), tickEvery: Math.max(1, Math.ceil(runs.length / 6)),
    series: rules.map(function (rule, i) {
      return { name: rule.name + " (" + rule.severity + ")", color: colorOf("rule:" + rule.name, i),
               values: runs.map(function (r) { return (r.per_rule[rule.name] || {}).failed || 0; }) };
    }),
    legend: true, height: 220
  });
  var rt = $("runs-table");
  runs.slice().reverse().forEach(function (r) {
    var tr = el("tr", {}, rt);
    el("th", { scope: "row" }, tr, r.run_id);
    el("td", {}, tr, r.status || "");
    el("td", { "class": "n" }, tr, num(r.records_found || 0));
    el("td", { "class": "n" }, tr, num(r.cables || 0));
    el("td", { "class": "n" }, tr, num(r.quarantined || 0));
    el("td", {}, tr, Object.keys(r.per_rule).filter(function (k) { return r.per_rule[k].failed; })
      .map(function (k) { return k + " " + num(r.per_rule[k].failed); }).join(", ") || "—");
  });

  // ------------------------------------------------------------------ searchable table
  var tab = D.table;
  var cols = tab.columns;
  var rows = tab.rows;
  var lower = rows.map(function (r) {
    return [r[0], r[2], r[4], r[5]].join("\u0001").toLowerCase();
  });
  var tbody = $("cables-body");
  var search = $("search");
  var more = $("more");
  var PAGE = 200;
  var shown = PAGE;
  var sortCol = 1, sortDir = -1;
  var matches = [];
  setText("table-cap", tab.total > rows.length
    ? "The table holds the newest " + num(rows.length) + " of " + num(tab.total) + " cables (search covers these only; use `cablelake sql` for the rest)."
    : "All " + num(tab.total) + " cables.");

  function filter() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    matches = [];
    for (var i = 0; i < rows.length; i++) {
      var ok = true;
      for (var j = 0; j < terms.length; j++) if (lower[i].indexOf(terms[j]) < 0) { ok = false; break; }
      if (ok) matches.push(i);
    }
    matches.sort(function (a, b) {
      var x = rows[a][sortCol] || "", y = rows[b][sortCol] || "";
      return x < y ? -sortDir : x > y ? sortDir : 0;
    });
    shown = PAGE;
    render();
  }

  function render() {
    tbody.textContent = "";
    var frag = document.createDocumentFragment();
    matches.slice(0, shown).forEach(function (i) {
      var r = rows[i];
      var tr = el("tr", {}, frag);
      el("th", { scope: "row" }, tr, r[0]);
      for (var c = 1; c < cols.length; c++) el("td", { "class": "c-" + cols[c] }, tr, r[c] || "");
    });
    tbody.appendChild(frag);
    setText("match-count", num(matches.length) + (matches.length === 1 ? " match" : " matches"));
    more.hidden = matches.length <= shown;
    more.textContent = "Show " + num(Math.min(PAGE, matches.length - shown)) + " more";
  }

  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(filter, 120);
  });
  more.addEventListener("click", function () { shown += PAGE; render(); });
  Array.prototype.forEach.call(document.querySelectorAll("#cables-table thead button"), function (b) {
    b.addEventListener("click", function () {
      var c = Number(b.getAttribute("data-col"));
      sortDir = c === sortCol ? -sortDir : 1;
      sortCol = c;
      Array.prototype.forEach.call(document.querySelectorAll("#cables-table thead th"), function (th) {
        th.removeAttribute("aria-sort");
      });
      b.parentNode.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      filter();
    });
  });
  // index.html#search=terms opens the table already searched (a link to a search can be shared)
  var m = /^#search=(.*)$/.exec(window.location.hash);
  if (m) search.value = decodeURIComponent(m[1]);
  filter();
  if (m) $("cables").scrollIntoView();  // after the rows are there, so the page is as tall as it will be
  document.body.setAttribute("data-rendered", "true");
})();
