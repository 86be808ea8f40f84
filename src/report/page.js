"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const docs = data.docs;

  // Elements are built with text nodes only: no document text is ever parsed as HTML.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "onclick") e.addEventListener("click", v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const fmt = (v) => v.toFixed(3);
  const key = (a, b) => (a < b ? a + "," + b : b + "," + a);
  const pairs = new Map(data.pairs.map((p) => [key(p.a, p.b), p]));
  const clusterOf = new Map();
  data.clusters.forEach((c, n) => c.members.forEach(([m]) => clusterOf.set(m, n)));

  // Cividis (colour-blind safe, monotone in lightness), linear between five stops.
  const STOPS = [[0, 35, 78], [65, 77, 107], [124, 123, 120], [188, 175, 111], [254, 232, 56]];
  function cividis(v) {
    const x = Math.max(0, Math.min(1, v)) * (STOPS.length - 1);
    const i = Math.min(STOPS.length - 2, Math.floor(x));
    const t = x - i;
    return STOPS[i].map((s, k) => Math.round(s + (STOPS[i + 1][k] - s) * t));
  }
  const rgb = (c) => "rgb(" + c.join(",") + ")";
  const isLight = (c) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] > 140;

  document.getElementById("summary").textContent =
    docs.length + " documents · " + data.clusters.length + " cluster(s) with " + data.clustered +
    " documents · " + data.singletons.length + " singleton(s) · same story at similarity ≥ " + data.threshold;

  // Heatmap, ordered by cluster.
  const order = data.heatmap.docs;
  const n = order.length;
  const value = (x, y) => data.heatmap.values[x * n + y];
  const position = new Map(order.map((d, x) => [d, x]));
  // Colours: pairs below the threshold take the dark half of the scale (0 to the threshold),
  // pairs at or above it the light half (the threshold to the largest value shown), so that
  // same-story cells stand out at any scale; the legend marks the threshold.
  let top = data.threshold;
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) if (x !== y) top = Math.max(top, value(x, y));
  top = Math.min(1, top);
  const t = data.threshold;
  const shade = (v) => (v < t ? 0.5 * Math.max(0, v) / t : top > t ? 0.6 + 0.4 * (v - t) / (top - t) : 1);
  function heatmap() {
    const grid = document.getElementById("heatmap");
    const size = Math.max(5, Math.min(64, Math.floor(600 / Math.max(1, n))));
    const withText = size >= 34;
    const labelled = size >= 12;
    grid.style.gridTemplateColumns = "auto repeat(" + n + ", " + size + "px)";
    grid.style.gridAutoRows = labelled ? "auto" : size + "px";
    grid.classList.toggle("small", !labelled);
    grid.append(el("div"));
    for (let y = 0; y < n; y++) grid.append(el("div", { class: "collabel" }, size >= 16 ? String(y) : ""));
    for (let x = 0; x < n; x++) {
      const a = order[x];
      grid.append(el("div", { class: "rowlabel", title: docs[a].id + " — " + docs[a].title }, labelled ? x + "  " + docs[a].id : ""));
      for (let y = 0; y < n; y++) {
        const b = order[y];
        const v = value(x, y);
        const c = cividis(shade(v));
        const same = x !== y && clusterOf.has(a) && clusterOf.get(a) === clusterOf.get(b);
        const label = docs[a].id + " × " + docs[b].id + ": " + fmt(v);
        const cell = el("div", {
          class: "cell" + (x === y ? " diag" : "") + (same ? " same" : ""),
          title: label, "aria-label": label, role: "gridcell", "data-a": a, "data-b": b,
        }, withText && x !== y ? fmt(v).replace(/^0/, "") : "");
        if (n <= 40) cell.tabIndex = 0;
        cell.style.background = rgb(c);
        cell.style.color = isLight(c) ? "#111" : "#fff";
        grid.append(cell);
      }
    }
    const open = (e) => {
      const cell = e.target.closest(".cell");
      if (cell && cell.dataset.a !== cell.dataset.b) showPair(+cell.dataset.a, +cell.dataset.b, true);
    };
    grid.addEventListener("click", open);
    grid.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(e); } });
    document.getElementById("heatmap-note").textContent =
      (n < docs.length
        ? "The first " + n + " of " + docs.length + " documents, clustered ones first, by cluster (outlined: same cluster). "
        : "All documents, by cluster (outlined: same cluster). ") +
      "Hover a cell for the pair and its similarity; click it for the evidence.";
    const bar = el("div", { class: "bar" });
    const stops = [0, 0.25, 0.5, 0.55, 0.6, 0.8, 1].map((x) => rgb(cividis(x <= 0.5 ? x : x < 0.6 ? (x < 0.55 ? 0.5 : 0.6) : x)) + " " + x * 100 + "%");
    bar.style.background = "linear-gradient(to right, " + stops.join(", ") + ")";
    const tick = el("span", { class: "tick", title: "threshold " + data.threshold });
    tick.style.left = "55%";
    const scale = el("span", { class: "scale" }, bar, tick);
    document.getElementById("legend").append("similarity 0", scale, fmt(top), el("span", { class: "id" }, "(│ threshold " + data.threshold + ": below it the dark half, at or above it the light half)"));
  }

  // A list shown a page at a time.
  function paged(container, heading, items, perPage, render) {
    const list = el("ul");
    const status = el("span");
    let page = 0;
    const pages = Math.max(1, Math.ceil(items.length / perPage));
    const prev = el("button", { type: "button", onclick: () => draw(page - 1) }, "previous");
    const next = el("button", { type: "button", onclick: () => draw(page + 1) }, "next");
    function draw(p) {
      page = Math.max(0, Math.min(pages - 1, p));
      list.replaceChildren(...items.slice(page * perPage, (page + 1) * perPage).map(render));
      status.textContent = "page " + (page + 1) + " of " + pages;
      prev.disabled = page === 0;
      next.disabled = page === pages - 1;
    }
    container.append(el("h2", {}, heading + " (" + items.length + ")"), list);
    if (pages > 1) container.append(el("div", { class: "pager" }, prev, status, next));
    draw(0);
  }

  const pairButton = (a, b, text) =>
    el("button", { type: "button", class: "link", onclick: () => showPair(a, b, true) }, text);

  function lists() {
    paged(document.getElementById("clusters"), "Clusters", data.clusters, 25, (c, i) => {
      const members = c.members.map(([m, s]) =>
        el("li", {},
          el("span", { class: "value" }, m === c.rep ? "★" : fmt(s)),
          m === c.rep ? el("span", {}, docs[m].title || docs[m].id) : pairButton(c.rep, m, docs[m].title || docs[m].id),
          el("span", { class: "id" }, docs[m].id)));
      return el("li", { class: "cluster" },
        el("h3", {}, "Cluster " + data.clusters.indexOf(c) + " (" + c.members.length + " documents; ★ representative)"),
        el("ul", {}, ...members));
    });
    paged(document.getElementById("pairs"), "Explained pairs, most similar first", data.pairs, 50, (p) =>
      el("li", {}, el("span", { class: "value" }, fmt(p.s)), " ", p.l ? el("span", { class: "id" }, p.l) : "", " ",
        pairButton(p.a, p.b, (docs[p.a].title || docs[p.a].id) + "  ↔  " + (docs[p.b].title || docs[p.b].id))));
    paged(document.getElementById("singletons"), "Singletons", data.singletons, 100, (s) =>
      el("li", {}, el("span", { class: "id" }, docs[s].id), " ", docs[s].title));
  }

  // Text with highlighted spans: each stretch is a text node, or a <mark> carrying the
  // classes (and ids) of every span covering it.
  function highlighted(text, spans) {
    const cuts = new Set([0, text.length]);
    spans.forEach((s) => { cuts.add(s.start); cuts.add(s.end); });
    const points = [...cuts].sort((x, y) => x - y);
    const out = el("div", { class: "text" });
    for (let i = 0; i + 1 < points.length; i++) {
      const [x, y] = [points[i], points[i + 1]];
      const on = spans.filter((s) => s.start <= x && s.end >= y);
      const piece = text.slice(x, y);
      if (!on.length) { out.append(piece); continue; }
      const classes = [...new Set(on.flatMap((s) => s.cls.split(" ")))].join(" ");
      const mark = el("mark", { class: classes, "data-ref": on.map((s) => s.ref).join(" ") }, piece);
      mark.title = on.map((s) => s.label).join("; ");
      out.append(mark);
    }
    return out;
  }

  function flash(ref) {
    const marks = [...document.querySelectorAll("#pair mark")].filter((m) => m.dataset.ref.split(" ").includes(ref));
    document.querySelectorAll("#pair mark.flash").forEach((m) => m.classList.remove("flash"));
    marks.forEach((m) => m.classList.add("flash"));
    marks.forEach((m) => m.scrollIntoView({ block: "center", behavior: "smooth" }));
  }

  function showPair(a, b, scroll) {
    const p = pairs.get(key(a, b));
    if (p) [a, b] = [p.a, p.b];
    const section = document.getElementById("pair");
    document.querySelectorAll(".cell.current").forEach((c) => c.classList.remove("current"));
    [[a, b], [b, a]].forEach(([x, y]) => {
      const cell = document.querySelector('.cell[data-a="' + x + '"][data-b="' + y + '"]');
      if (cell) cell.classList.add("current");
    });
    const sim = p ? p.s : position.has(a) && position.has(b) ? value(position.get(a), position.get(b)) : null;
    const spans = [[], []];
    const facts = [];
    const passages = [];
    if (p) {
      p.facts.forEach(([kind, sa, ea, sb, eb], i) => {
        const ref = "f" + i;
        spans[0].push({ start: sa, end: ea, cls: "fact " + kind, ref, label: "shared " + kind });
        spans[1].push({ start: sb, end: eb, cls: "fact " + kind, ref, label: "shared " + kind });
        facts.push({ kind, ref, ta: docs[a].text.slice(sa, ea), tb: docs[b].text.slice(sb, eb) });
      });
      p.passages.forEach(([sa, ea, sb, eb, words], i) => {
        const ref = "p" + i;
        spans[0].push({ start: sa, end: ea, cls: "passage", ref, label: "shared passage, " + words + " words" });
        spans[1].push({ start: sb, end: eb, cls: "passage", ref, label: "shared passage, " + words + " words" });
        passages.push({ words, ref, ta: docs[a].text.slice(sa, ea), tb: docs[b].text.slice(sb, eb) });
      });
    }
    const article = (d, s) =>
      el("article", { class: "article" },
        el("h3", {}, docs[d].title || docs[d].id),
        el("p", { class: "id" }, docs[d].id),
        docs[d].text === undefined ? el("p", { class: "note" }, "Text not embedded (document outside the clusters and the heatmap).")
          : highlighted(docs[d].text, s));
    const item = (f, label) =>
      el("li", {}, el("span", { class: "kind" }, label), " ",
        el("button", { type: "button", class: "link", onclick: () => flash(f.ref) }, "“" + f.ta + "”"),
        f.ta === f.tb ? null : el("span", { class: "id" }, "  ~ “" + f.tb + "”"));
    section.replaceChildren(
      el("h2", {}, "Pair: " + docs[a].id + " ↔ " + docs[b].id),
      el("p", {}, el("span", { class: "sim" }, sim === null ? "" : fmt(sim)),
        sim === null ? "" : sim >= data.threshold ? "  same story (≥ " + data.threshold + ")" : "  below the threshold " + data.threshold),
      p ? el("div", { class: "keys" },
        el("mark", { class: "passage" }, "shared passage (blue, solid underline)"),
        el("mark", { class: "fact" }, "shared fact (orange, bold, double underline)"))
        : el("p", { class: "note" }, "No evidence embedded for this pair: with many documents only the pairs inside clusters are explained."),
      el("div", { class: "sides" }, article(a, spans[0]), article(b, spans[1])),
      p ? el("div", { class: "evidence" },
        el("div", {}, el("h3", {}, "Shared facts (" + facts.length + ")"),
          el("ul", {}, ...facts.map((f) => item(f, f.kind)))),
        el("div", {}, el("h3", {}, "Longest shared passages (" + passages.length + ")"),
          el("ul", {}, ...passages.map((f) => item(f, f.words + " words"))))) : null);
    if (scroll) section.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  heatmap();
  lists();
  if (data.pairs.length) showPair(data.pairs[0].a, data.pairs[0].b, false);
  else document.getElementById("pair").append(el("p", { class: "note" }, "No pair to explain."));
})();
