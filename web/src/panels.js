// The assessment beside the charts, the migration banner above them, and the evidence
// panel: every reason and every mark opens the sentences (or values) it rests on.

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function quoted(item) {
  // the sentence, with the words the finding was read from marked
  const block = el("blockquote", { class: "quote" });
  const quote = item.quote || "";
  const term = (item.what || "").trim();
  const at = term ? quote.toLowerCase().indexOf(term.toLowerCase()) : -1;
  if (at < 0) {
    block.textContent = quote;
  } else {
    block.append(quote.slice(0, at), el("mark", {}, quote.slice(at, at + term.length)),
      quote.slice(at + term.length));
  }
  return block;
}

export function showEvidence(data, ids, heading) {
  const panel = $("evidence");
  panel.replaceChildren(el("h2", {}, "Evidence"));
  if (heading) panel.append(el("p", { class: "evidence-heading" }, heading));
  const items = ids.map((id) => data.evidence[id]).filter(Boolean);
  if (!items.length) {
    panel.append(el("p", { class: "muted" }, "No source resource: this reason is the service's own conclusion."));
  }
  items.forEach((item, n) => {
    const head = el("div", { class: "evidence-source" }, el("strong", {}, item.source),
      item.date ? ` · ${item.date}` : "", el("span", { class: "ref" }, ` ${item.ref}`));
    const entry = el("div", { class: n === 0 ? "evidence-item decisive" : "evidence-item",
      "data-evidence": item.id }, head);
    if (item.quote) {
      entry.append(quoted(item));
      if (item.state) entry.append(el("span", { class: `state state-${item.state}` }, item.state));
    } else {
      entry.append(el("p", { class: "value" }, item.what || "Resource on record (no text was read from it)."));
    }
    panel.append(entry);
  });
  panel.scrollIntoView({ block: "nearest" });
  document.querySelectorAll(".selected").forEach((node) => node.classList.remove("selected"));
  const wanted = new Set(ids);
  document.querySelectorAll("[data-evidence-ids]").forEach((node) => {
    if (node.dataset.evidenceIds.split(" ").some((id) => wanted.has(id))) node.classList.add("selected");
  });
}

export function drawAssessment(data, select) {
  const a = data.assessment;
  const box = $("assessment");
  const side = a.side ? `the ${a.side} hip` : "either hip (no side given)";
  box.replaceChildren(
    el("h2", {}, "Assessment"),
    el("p", { class: `outcome indicator-${a.indicator}`, "data-outcome": a.outcome }, a.title),
    el("p", { class: "muted" }, `Hip core decompression check, ${side}` +
      (a.exam ? `; imaging read: ${a.exam.description} (${a.exam.day})` : "")),
  );
  for (const section of a.sections) {
    const list = el("ul", { class: "reasons" });
    for (const reason of section.reasons) {
      const button = el("button", { type: "button", class: "reason",
        "data-evidence-ids": reason.evidence.join(" ") },
        reason.day ? el("span", { class: "day" }, reason.day) : undefined, reason.text);
      button.addEventListener("click", () => select(reason.evidence, reason.text));
      list.append(el("li", {}, button));
    }
    box.append(el("h3", {}, section.title), list);
  }
}

export function drawMigration(data, select) {
  const banner = $("migration");
  const m = data.migration;
  if (!m) {
    banner.hidden = true;
    return;
  }
  banner.replaceChildren(el("strong", {}, "Migratory pattern: "));
  m.steps.forEach((step, n) => {
    if (n) banner.append(el("span", { class: "arrow" }, " → "));
    const what = step.outcome === "current" ? `edema since ${step.day}`
      : `edema ${step.day}, ${step.outcome}${step.resolved_day ? ` by ${step.resolved_day}` : ""}`;
    const button = el("button", { type: "button", class: "step", "data-evidence-ids": step.evidence.join(" ") },
      el("b", {}, step.joint), ` (${what})`);
    button.addEventListener("click", () => select(step.evidence, `${step.joint}: ${what}`));
    banner.append(button);
  });
  banner.append(el("span", { class: "muted" }, " — transient migratory osteoporosis?"));
  banner.hidden = false;
}
