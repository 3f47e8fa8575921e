// The internal dashboard: plain DOM and ECharts over the gateway's public API, with the
// signed-in credential. What a caller may see is decided by the services, never here, so a
// dealer's key shows only that dealer.
"use strict";

const CREDENTIAL = "cem-dashboard-credential";
const pages = { feedback, cases, quality, journeys, owner };

// --- plumbing ---------------------------------------------------------------------------

function credentialHeaders() {
  const credential = sessionStorage.getItem(CREDENTIAL) || "";
  return credential.startsWith("cem_")
    ? { "X-API-Key": credential }
    : { Authorization: `Bearer ${credential}` };
}

async function api(path, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== "" && value != null));
  const url = query.toString() ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: credentialHeaders() });
  if (response.status === 401) { signOut(); throw new Error("Signed out: the credential was refused"); }
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || `${response.status} on ${path}`);
  return body;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  }
  return node;
}

function table(columns, rows, onRowClick) {
  return el("table", {},
    el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title)))),
    el("tbody", {}, rows.map((row) => el("tr",
      onRowClick ? { class: "clickable", onclick: () => onRowClick(row) } : {},
      columns.map(([, value]) => el("td", {}, String(value(row) ?? "—")))))));
}

function select(name, options, value) {
  return el("label", {}, `${name} `, el("select", { name },
    options.map(([optionValue, label]) => {
      const option = el("option", { value: optionValue }, label);
      option.selected = optionValue === value;
      return option;
    })));
}

function chart(options) {
  const holder = el("div", { class: "chart" });
  requestAnimationFrame(() => echarts.init(holder).setOption(options));
  return holder;
}

// Dealer ids become "code name" wherever a dealer is shown (one lookup per page load).
let dealerNames;
async function dealerLabel() {
  if (!dealerNames) {
    const dealers = await api("/v1/profile/dealers", { limit: 100 }).catch(() => ({ items: [] }));
    dealerNames = new Map(dealers.items.map((d) => [d.id, `${d.code} ${d.name}`]));
  }
  return (id) => dealerNames.get(id) ?? id;
}

const percent = (rate) => (rate == null ? null : `${(rate * 100).toFixed(1)}%`);
const fixed = (value, digits = 1) => (value == null ? null : Number(value).toFixed(digits));

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error.message;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

function render(...nodes) {
  document.getElementById("page").replaceChildren(...nodes);
}

function filtersForm(fields, onChange) {
  const form = el("form", { class: "filters" }, fields);
  form.addEventListener("change", () => onChange(Object.fromEntries(new FormData(form))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onChange(Object.fromEntries(new FormData(form)));
  });
  return form;
}

// --- pages ------------------------------------------------------------------------------

async function feedback(filters = { kind: "nps", by: "dealer_id", period: "month" }) {
  const [scores, topics, dealer] = await Promise.all([
    api("/v1/feedback/analytics/scores", filters),
    api("/v1/feedback/analytics/topics", { kind: filters.kind }),
    dealerLabel(),
  ]);
  const groupName = (key) => (filters.by === "dealer_id" ? dealer(key) : key) ?? "—";
  const periods = [...new Set(scores.groups.flatMap((g) => g.series.map((p) => p.period_start)))].sort();
  render(
    el("h1", {}, `${filters.kind.toUpperCase()} by ${filters.by.replace("_id", "")}`),
    filtersForm([
      select("score", [["nps", "NPS"], ["csat", "CSAT"]], filters.kind),
      select("by", [["dealer_id", "dealer"], ["touchpoint", "touchpoint"], ["model", "model"],
                    ["lifecycle_stage", "lifecycle stage"]], filters.by),
      select("period", [["day", "day"], ["week", "week"], ["month", "month"]], filters.period),
    ], (values) => feedback({ kind: values.score, by: values.by, period: values.period }).catch(showError)),
    chart({
      tooltip: { trigger: "axis" }, legend: { type: "scroll" },
      xAxis: { type: "category", data: periods }, yAxis: { type: "value" },
      series: scores.groups.map((group) => ({
        name: groupName(group.key),
        type: "line",
        data: periods.map((period) => group.series.find((p) => p.period_start === period)?.score ?? null),
      })),
    }),
    table([["group", (g) => groupName(g.key)], ["score", (g) => fixed(g.total.score)],
           ["responses", (g) => g.total.responses], ["invited", (g) => g.total.invited],
           ["response rate", (g) => percent(g.total.response_rate)],
           ["detractors", (g) => g.total.detractors], ["promoters", (g) => g.total.promoters]],
          scores.groups),
    el("h2", {}, "What detractors talk about"),
    chart({
      tooltip: {}, xAxis: { type: "value" },
      yAxis: { type: "category", data: topics.topics.map((t) => t.name_en || t.topic).reverse() },
      series: [{ type: "bar", data: topics.topics.map((t) => t.mentions).reverse() }],
    }),
  );
}

async function cases(filters = { group_by: "dealer", period: "week" }) {
  const [report, dealer] = await Promise.all([api("/v1/tickets/reports/sla", filters), dealerLabel()]);
  const rows = report.rows;
  const groupName = (row) => (filters.group_by === "dealer" ? dealer(row.group) : row.group) ?? "—";
  const label = (row) => `${groupName(row)} ${row.period_start ?? ""}`;
  render(
    el("h1", {}, "Case backlog and SLA compliance"),
    filtersForm([
      select("group_by", [["dealer", "dealer"], ["queue", "queue"], ["kind", "kind"]], filters.group_by),
      select("period", [["day", "day"], ["week", "week"], ["month", "month"]], filters.period),
    ], (values) => cases(values).catch(showError)),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("h3", {}, "Backlog"), String(report.totals.backlog)),
      el("div", { class: "card" }, el("h3", {}, "First response met"),
         percent(report.totals.first_response.rate) ?? "—",
         el("div", { class: "muted" }, `${report.totals.first_response.breached} breached`)),
      el("div", { class: "card" }, el("h3", {}, "Resolution met"),
         percent(report.totals.resolution.rate) ?? "—",
         el("div", { class: "muted" }, `${report.totals.resolution.breached} breached`)),
      el("div", { class: "card" }, el("h3", {}, "Mean time to resolve"),
         `${fixed(report.totals.mean_hours_to_resolve) ?? "—"} h`)),
    chart({
      tooltip: { trigger: "axis" }, legend: {},
      xAxis: { type: "category", data: rows.map(label) }, yAxis: { type: "value" },
      series: [
        { name: "opened", type: "bar", data: rows.map((r) => r.opened) },
        { name: "backlog", type: "bar", data: rows.map((r) => r.backlog) },
        { name: "first-response breaches", type: "bar", data: rows.map((r) => r.first_response.breached) },
        { name: "resolution breaches", type: "bar", data: rows.map((r) => r.resolution.breached) },
      ],
    }),
    table([["group", groupName], ["period", (r) => r.period_start], ["opened", (r) => r.opened],
           ["resolved", (r) => r.resolved], ["backlog", (r) => r.backlog],
           ["first response met", (r) => percent(r.first_response.rate)],
           ["resolution met", (r) => percent(r.resolution.rate)],
           ["reopen rate", (r) => percent(r.reopen_rate)]], rows),
  );
}

async function quality() {
  const [alerts, dealer] = await Promise.all([
    api("/v1/telematics/quality/alerts", { limit: 100 }), dealerLabel()]);
  const detail = el("div", {});
  render(
    el("h1", {}, "Quality alerts"),
    table([["component", (a) => a.component], ["batch", (a) => a.batch_code],
           ["failures", (a) => a.failures], ["rate ratio", (a) => fixed(a.rate_ratio)],
           ["95% lower bound", (a) => fixed(a.rate_ratio_lower_bound)],
           ["corrected p", (a) => Number(a.corrected_p_value).toExponential(2)],
           ["threshold km", (a) => a.threshold_km], ["raised", (a) => a.raised_at]],
          alerts.items, (alert) => qualityAlert(alert.id, detail, dealer).catch(showError)),
    alerts.items.length ? detail : el("p", { class: "muted" }, "No alert has been raised."),
  );
  if (alerts.items.length) await qualityAlert(alerts.items[0].id, detail, dealer);
}

async function qualityAlert(alertId, holder, dealer) {
  const alert = await api(`/v1/telematics/quality/alerts/${alertId}`);
  const bands = alert.bands.map((b) => `${b.from_km / 1000}–${b.to_km / 1000}k km`);
  const line = (name, values, style = {}) => ({ name, type: "line", data: values, ...style });
  holder.replaceChildren(
    el("h2", {}, `${alert.component} batch ${alert.batch_code}: failures per 10,000 km by mileage`),
    chart({
      tooltip: { trigger: "axis" }, legend: {},
      xAxis: { type: "category", data: bands }, yAxis: { type: "value", name: "per 10,000 km" },
      series: [
        line("batch", alert.bands.map((b) => b.hazard_per_10000km), { symbolSize: 8 }),
        line("batch 95% upper", alert.bands.map((b) => b.hazard_interval[1]), { lineStyle: { type: "dashed" } }),
        line("batch 95% lower", alert.bands.map((b) => b.hazard_interval[0]), { lineStyle: { type: "dashed" } }),
        line("rest of fleet", alert.bands.map((b) => b.rest_hazard_per_10000km), { symbolSize: 8 }),
      ],
    }),
    el("h2", {}, `Campaign: ${alert.targets.length} vehicles, most urgent first`),
    table([["VIN", (t) => t.vin], ["mileage km", (t) => fixed(t.mileage_km, 0)],
           ["days to threshold", (t) => fixed(t.days_to_threshold)],
           ["dealer", (t) => dealer(t.servicing_dealer_id)]], alert.targets),
  );
}

async function journeys(selected) {
  const definitions = await api("/v1/journeys/definitions", { limit: 100 });
  const detail = el("div", {});
  render(
    el("h1", {}, "Journeys"),
    definitions.items.length ? "" : el("p", { class: "muted" },
      "No journey yet: create one from a template (GET /v1/journeys/journey-templates)."),
    table([["journey", (d) => d.key], ["version", (d) => d.version], ["status", (d) => d.status],
           ["category", (d) => d.category], ["trigger", (d) => d.trigger_type],
           ["activated", (d) => d.activated_at]], definitions.items,
          (definition) => journeyMetrics(definition.key, detail).catch(showError)),
    detail,
  );
  const first = selected || definitions.items[0]?.key;
  if (first) await journeyMetrics(first, detail);
}

async function journeyMetrics(key, holder) {
  const metrics = await api(`/v1/journeys/definitions/${encodeURIComponent(key)}/metrics`);
  const holdout = metrics.holdout;
  holder.replaceChildren(
    el("h2", {}, `${key}: funnel`),
    chart({
      tooltip: {},
      series: [{ type: "funnel", sort: "descending", label: { formatter: "{b}: {c}" },
                 data: [["entered", metrics.entered], ["running", metrics.running],
                        ["completed", metrics.completed], ["converted", metrics.converted]]
                   .map(([name, value]) => ({ name, value })) }],
    }),
    el("h2", {}, "Against the holdout"),
    table([["group", (r) => r[0]], ["owners", (r) => r[1]], ["conversion", (r) => percent(r[2])]],
          [["treated", metrics.entered, holdout.treated_conversion_rate],
           ["held out", holdout.held_out, holdout.holdout_conversion_rate]]),
    el("p", {}, `Uplift: ${percent(holdout.uplift)}`),
    table([["step", (s) => s[0]], ["standing", (s) => s[1].standing], ["messaged", (s) => s[1].messaged],
           ["deferred", (s) => JSON.stringify(s[1].deferred)],
           ["suppressed", (s) => JSON.stringify(s[1].suppressed)]], Object.entries(metrics.steps)),
  );
}

async function owner(ownerId) {
  const form = filtersForm([el("label", {}, "Owner id ",
    el("input", { name: "owner", size: 40, value: ownerId || "", placeholder: "uuid" })),
    el("button", { type: "submit" }, "Show")], (values) => {
      if (values.owner) location.hash = `owner/${values.owner.trim()}`;
    });
  if (!ownerId) return render(el("h1", {}, "Owner 360"), form);
  const view = await api(`/v1/profile/owners/${encodeURIComponent(ownerId)}/360`);
  const who = view.identity;
  render(
    el("h1", {}, `${who.full_name} · ${view.lifecycle.stage ?? ""}`), form,
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("h3", {}, "Contact"), `${who.email ?? "—"} · ${who.phone ?? "—"}`,
         el("div", { class: "muted" }, `${who.city ?? ""} · ${who.preferred_language}`)),
      el("div", { class: "card" }, el("h3", {}, "Points"), String(view.points)),
      el("div", { class: "card" }, el("h3", {}, "Segments"),
         view.segments.map((s) => el("div", {}, `${s.segment_key ?? s.key}`,
           el("span", { class: "muted" }, ` ${(s.reasons || []).join("; ")}`)))),
      el("div", { class: "card" }, el("h3", {}, "Tags"), view.tags.join(", ") || "—")),
    el("h2", {}, "Vehicles"),
    table([["VIN", (v) => v.vin], ["model", (v) => v.model],
           ["batches", (v) => (v.components || []).map((c) => `${c.component} ${c.batch_code}`).join(", ")]],
          view.vehicles),
    el("h2", {}, "Open cases"),
    table([["number", (t) => t.number], ["kind", (t) => t.kind], ["status", (t) => t.status],
           ["priority", (t) => t.priority]], view.open_tickets),
    el("h2", {}, "Timeline"),
    table([["when", (i) => i.at], ["what", (i) => i.kind], ["", (i) => i.summary], ["from", (i) => i.source]],
          view.timeline),
  );
}

// --- navigation and sign-in --------------------------------------------------------------

function signOut() {
  sessionStorage.removeItem(CREDENTIAL);
  showSignedIn();
}

function describeCredential(credential) {
  if (credential.startsWith("cem_")) return "dealer key";
  try {
    const claims = JSON.parse(atob(credential.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return `${claims.cem_kind} ${claims.sub}${claims.roles ? ` (${claims.roles.join(", ")})` : ""}`;
  } catch {
    return "token";
  }
}

function showSignedIn() {
  const credential = sessionStorage.getItem(CREDENTIAL);
  document.getElementById("login").hidden = Boolean(credential);
  document.getElementById("logout").hidden = !credential;
  document.getElementById("who").textContent = credential ? describeCredential(credential) : "";
  if (credential) route(); else render();
}

function route() {
  const [name, argument] = (location.hash.slice(1) || "feedback").split("/");
  document.querySelectorAll("header nav a").forEach((link) =>
    link.classList.toggle("active", link.getAttribute("href") === `#${name}`));
  (pages[name] || feedback)(argument).catch(showError);
}

document.getElementById("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(CREDENTIAL, document.getElementById("credential").value.trim());
  showSignedIn();
});
document.getElementById("logout").addEventListener("click", signOut);
window.addEventListener("hashchange", () => sessionStorage.getItem(CREDENTIAL) && route());
showSignedIn();
