// The charts, drawn with Observable Plot on one shared time axis: one lane per joint
// (imaging marks by result and modality, edema episodes as bars, the migration arrow),
// the steroid and pregnancy lanes, then CRP, ESR and WBC against the limits applied.
import * as Plot from "@observablehq/plot";

export const STYLE = { // result -> [symbol, colour]: shape and colour both tell it
  edema: ["circle", "#e8590c"], improving: ["hexagon", "#f59f00"],
  resolved: ["diamond", "#2b8a3e"], normal: ["square", "#868e96"],
  avn: ["triangle", "#862e9c"], fracture: ["wye", "#c92a2a"],
  infection: ["star", "#a61e4d"], unread: ["cross", "#adb5bd"],
};
const MARGIN_LEFT = 112;
const MARGIN_RIGHT = 24;
const LAB_KINDS = ["CRP", "ESR", "WBC"];
const DAY = 86400000;
const $ = (id) => document.getElementById(id);
const date = (value) => new Date(value);
const laneName = (lane) => (lane.includes("#") ? ""
  : lane.charAt(0).toUpperCase() + lane.slice(1));

function timeDomain(data) {
  const times = [data.now];
  data.marks.forEach((m) => times.push(m.date));
  data.episodes.forEach((e) => times.push(e.start, e.end));
  data.labs.forEach((p) => times.push(p.date));
  data.steroids.forEach((s) => times.push(s.start, s.end));
  data.pregnancy.forEach((p) => times.push(p.start, p.end));
  const ms = times.filter(Boolean).map((t) => date(t).getTime());
  const hi = Math.max(...ms);
  const lo = Math.min(...ms, hi - 30 * DAY); // at least a month: days, not hours, on the axis
  const pad = (hi - lo) * 0.05;
  return [new Date(lo - pad), new Date(hi + pad)];
}

// A Plot render transform: each drawn element gets its datum's attributes and a click
// (and Enter key) handler that opens its evidence.
function clickable(rows, describe, onSelect) {
  return (index, scales, values, dimensions, context, next) => {
    const g = next(index, scales, values, dimensions, context);
    // one shape per datum, in index order (clipped marks nest them in another g)
    g.querySelectorAll("rect, circle, path").forEach((node, i) => {
      const row = rows[index[i]];
      const { label, attrs } = describe(row);
      node.setAttribute("role", "button");
      node.setAttribute("tabindex", "0");
      node.setAttribute("aria-label", label);
      node.setAttribute("data-evidence-ids", row.evidence.join(" "));
      node.classList.add("clickable");
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(`data-${key}`, value);
      const open = () => onSelect(row.evidence, label);
      node.addEventListener("click", open);
      node.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
    });
    return g;
  };
}

function markLabel(m) {
  const where = m.mention ? ` (stated in a later report: ${m.description})` : `: ${m.description}`;
  return `${m.modality} ${m.lane} ${m.day}, ${m.result_label}${where}`;
}

function migrationArrows(data) {
  if (!data.migration) return [];
  const steps = data.migration.steps;
  const arrows = [];
  for (let n = 1; n < steps.length; n += 1) {
    const from = steps[n - 1];
    const to = steps[n];
    const bar = data.episodes.find((e) => e.lane === from.lanes[0] && e.start === from.start);
    arrows.push({ x1: date(bar ? bar.end : from.start), y1: from.lanes[0],
      x2: date(to.start), y2: to.lanes[0] });
  }
  return arrows;
}

// Overlapping periods (an order and a statement of the same steroid) go on rows of
// their own under one lane label, so that each stays visible and clickable.
function packRows(periods, lane) {
  const ends = [];
  return periods.map((p) => {
    const start = date(p.start).getTime();
    let row = ends.findIndex((end) => end < start);
    if (row < 0) row = ends.length;
    ends[row] = Math.max(date(p.end).getTime(), start + DAY);
    return { ...p, row: row ? `${lane}#${row}` : lane };
  });
}

function lanesPlot(data, domain, width, onSelect) {
  const steroids = packRows(data.steroids, "steroids");
  const extra = [...new Set(steroids.map((s) => s.row))].filter((r) => r !== "steroids");
  const lanes = [...data.lanes, "steroids", ...extra, "pregnancy"];
  const own = data.marks.filter((m) => !m.mention);
  const mentions = data.marks.filter((m) => m.mention);
  const empty = ["steroids", "pregnancy"].filter((lane) => !data[lane].length)
    .map((lane) => ({ lane, text: lane === "steroids" ? "no systemic steroids on record"
      : "no pregnancy on record" }));
  const markAttrs = (m) => ({ label: markLabel(m), attrs: { lane: m.lane, result: m.result,
    modality: m.modality, day: m.day, mention: m.mention } });
  const periodAttrs = (p) => ({ label: p.label, attrs: { lane: p.lane } });
  const arrows = migrationArrows(data);
  return Plot.plot({
    width, height: lanes.length * 27 + 44, marginLeft: MARGIN_LEFT, marginRight: MARGIN_RIGHT,
    marginTop: 30, style: { fontSize: "12px" },
    x: { type: "utc", domain, grid: true, label: null },
    y: { type: "band", domain: lanes, label: null, tickFormat: laneName, padding: 0.12 },
    marks: [
      Plot.barX(data.episodes, { x1: (e) => date(e.start), x2: (e) => date(e.end), y: "lane",
        fill: (e) => (e.status === "ongoing" ? "#e8590c" : "#f59f00"), fillOpacity: 0.22,
        clip: true, title: (e) => `edema episode, ${e.status}` }),
      Plot.barX(steroids, { x1: (s) => date(s.start), x2: (s) => date(s.end), y: "row",
        fill: (s) => (s.high_dose ? "#5f3dc4" : "#9775fa"), fillOpacity: 0.75, inset: 3,
        clip: true, title: "label", render: clickable(steroids, periodAttrs, onSelect) }),
      Plot.text(steroids, { x: (s) => date(s.start), y: "row", text: "name", dx: 4,
        textAnchor: "start", fill: "white", fontSize: 10, clip: true, pointerEvents: "none" }),
      Plot.barX(data.pregnancy.filter((p) => p.due), { x1: (p) => date(p.end),
        x2: (p) => date(p.due), y: "lane", fill: "#f783ac", fillOpacity: 0.18, inset: 3,
        clip: true, title: () => "expected to term" }),
      Plot.barX(data.pregnancy, { x1: (p) => date(p.start), x2: (p) => date(p.end), y: "lane",
        fill: "#e64980", fillOpacity: 0.7, inset: 3, clip: true, title: "label",
        render: clickable(data.pregnancy, periodAttrs, onSelect) }),
      Plot.text(empty, { x: domain[0], y: "lane", text: "text", textAnchor: "start", dx: 6,
        fill: "#868e96", fontStyle: "italic" }),
      Plot.ruleX([date(data.now)], { stroke: "#1c7ed6", strokeDasharray: "4,3" }),
      Plot.text([date(data.now)], { x: (d) => d, frameAnchor: "top", dy: -18, text: () => "today",
        fill: "#1c7ed6" }),
      Plot.arrow(arrows, { x1: "x1", y1: "y1", x2: "x2", y2: "y2", bend: true,
        stroke: "#d9480f", strokeWidth: 2, insetStart: 8, insetEnd: 10, className: "migration-arrow" }),
      Plot.dot(own, { x: (m) => date(m.date), y: "lane", symbol: (m) => STYLE[m.result][0],
        fill: (m) => STYLE[m.result][1], stroke: "white", strokeWidth: 1.5, r: 7,
        title: markLabel, render: clickable(own, markAttrs, onSelect) }),
      Plot.dot(mentions, { x: (m) => date(m.date), y: "lane", symbol: (m) => STYLE[m.result][0],
        fill: "white", stroke: (m) => STYLE[m.result][1], strokeWidth: 2, r: 5, dy: 7,
        title: markLabel, render: clickable(mentions, markAttrs, onSelect) }),
      Plot.text(own, { x: (m) => date(m.date), y: "lane", text: "modality", dy: -12,
        fontSize: 10, fill: "#343a40" }),
    ],
  });
}

const RESULT_WORDS = { avn: "AVN sign", unread: "not readable", improving: "edema improving" };

// The legend in HTML: each result's symbol (drawn by Plot, so it matches the chart) and
// word, the hollow "stated in a later report" mark, and the bars.
function legend() {
  const symbol = (name, fill, stroke = "white") => Plot.plot({
    width: 18, height: 18, margin: 0, x: { axis: null, domain: [0, 1] },
    y: { axis: null, domain: [0, 1] },
    marks: [Plot.dot([0], { x: 0.5, y: 0.5, symbol: () => name, fill, stroke, r: 6,
      strokeWidth: stroke === "white" ? 1 : 2 })] });
  const item = (graphic, text) => {
    const span = document.createElement("span");
    span.className = "legend-item";
    span.append(graphic, text);
    return span;
  };
  const swatch = (colour, opacity = 1) => {
    const box = document.createElement("span");
    box.className = "swatch";
    box.style.background = colour;
    box.style.opacity = opacity;
    return box;
  };
  return [
    ...Object.entries(STYLE).map(([key, [name, colour]]) =>
      item(symbol(name, colour), RESULT_WORDS[key] || key)),
    item(symbol("diamond", "white", STYLE.resolved[1]), "stated in a later report"),
    item(swatch("#e8590c", 0.3), "edema episode"),
    item(swatch("#9775fa"), "systemic steroid"),
    item(swatch("#5f3dc4"), "dose that blunts CRP and fever"),
    item(swatch("#e64980", 0.8), "pregnancy"),
  ];
}

function labPlot(data, kind, domain, width, onSelect, last) {
  const points = data.labs.filter((p) => p.kind === kind);
  if (!points.length) {
    const note = document.createElement("div");
    note.className = "no-lab";
    note.style.marginLeft = `${MARGIN_LEFT}px`;
    note.dataset.kind = kind;
    note.textContent = `No usable ${kind} on record`;
    return note;
  }
  const unit = points[0].unit;
  const limited = points.filter((p) => p.limit !== null);
  const latest = points[points.length - 1];
  const top = Math.max(...points.map((p) => p.value), ...limited.map((p) => p.limit)) * 1.35;
  const attrs = (p) => ({ label: `${kind} ${p.as_reported} on ${p.day}: ${p.limit_text}`,
    attrs: { kind, raised: p.raised, day: p.day } });
  const plot = Plot.plot({
    width, height: last ? 106 : 84, marginLeft: MARGIN_LEFT, marginRight: MARGIN_RIGHT,
    marginTop: 14, marginBottom: last ? 28 : 8, style: { fontSize: "11px" },
    x: { type: "utc", domain, grid: true, label: null, axis: last ? "bottom" : null },
    y: { domain: [0, top || 1], ticks: 3, label: `${kind} (${unit})`, labelAnchor: "center",
      labelArrow: "none", grid: true },
    marks: [
      Plot.line(limited, { x: (p) => date(p.date), y: "limit", curve: "step-after",
        stroke: "#c92a2a", strokeDasharray: "5,3" }),
      latest.limit !== null ? Plot.ruleY([latest.limit], { stroke: "#c92a2a",
        strokeDasharray: "5,3", strokeOpacity: 0.8 }) : null,
      latest.limit !== null ? Plot.text([latest.limit], { y: (d) => d, frameAnchor: "right",
        dy: -7, text: () => `limit ${latest.limit} ${unit}`, fill: "#c92a2a",
        textAnchor: "end" }) : null,
      Plot.ruleX([date(data.now)], { stroke: "#1c7ed6", strokeDasharray: "4,3" }),
      Plot.line(points, { x: (p) => date(p.date), y: "value", stroke: "#495057" }),
      Plot.dot(points, { x: (p) => date(p.date), y: "value", r: 5, stroke: "white",
        fill: (p) => (p.raised ? "#c92a2a" : "#1c7ed6"), title: (p) => attrs(p).label,
        render: clickable(points, attrs, onSelect) }),
      Plot.text(points, { x: (p) => date(p.date), y: "value", text: (p) => `${p.value}`,
        dy: -10, fontWeight: "bold", fill: (p) => (p.raised ? "#c92a2a" : "#343a40") }),
    ].filter(Boolean),
  });
  plot.dataset.kind = kind;
  return plot;
}

export function drawCharts(data, onSelect) {
  const width = Math.max(560, $("charts").clientWidth);
  const domain = timeDomain(data);
  $("lanes").replaceChildren(lanesPlot(data, domain, width, onSelect));
  $("legend").replaceChildren(...legend());
  $("labs").replaceChildren(...LAB_KINDS.map((kind, n) =>
    labPlot(data, kind, domain, width, onSelect, n === LAB_KINDS.length - 1)));
}
