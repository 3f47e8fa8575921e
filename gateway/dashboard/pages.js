// The pages. Each takes the part of the address after its name (filters as a query string, or
// the id of what is open) and returns the nodes to show; what a caller may see is decided by
// the services, never here.

import {
  api, card, chart, day, dealerLabel, duration, el, filtersForm, fixed, minute, percent, select,
  table,
} from "./lib.js";

const PERIODS = [["day", "day"], ["week", "week"], ["month", "month"]];

// Filters live in the address (#page/a=1&b=2), so a view can be shared and reloaded.
function filtersFrom(argument, defaults) {
  return { ...defaults, ...Object.fromEntries(new URLSearchParams(argument || "")) };
}

function goTo(page, filters) {
  location.hash = `${page}/${new URLSearchParams(filters)}`;
}

async function feedback(argument) {
  const filters = filtersFrom(argument, { kind: "nps", by: "dealer_id", period: "month" });
  const [scores, topics, dealer] = await Promise.all([
    api("/v1/feedback/analytics/scores", filters),
    api("/v1/feedback/analytics/topics", { kind: filters.kind }),
    dealerLabel(),
  ]);
  const groupName = (key) => (filters.by === "dealer_id" ? dealer(key) : key) ?? "—";
  const periods = [...new Set(scores.groups.flatMap((g) => g.series.map((p) => p.period_start)))].sort();
  const name = filters.kind.toUpperCase();
  return [
    el("h1", {}, `${name} by ${filters.by.replace("_id", "").replace("_", " ")}`),
    filtersForm([
      select("kind", [["nps", "NPS"], ["csat", "CSAT"]], filters.kind),
      select("by", [["dealer_id", "dealer"], ["touchpoint", "touchpoint"], ["model", "model"],
                    ["lifecycle_stage", "lifecycle stage"]], filters.by),
      select("period", PERIODS, filters.period),
    ], (values) => goTo("feedback", values)),
    el("div", { class: "cards" },
      card("score", name, fixed(scores.total.score), `${scores.start} to ${scores.end}`),
      card("responses", "Answers", scores.total.responses, `of ${scores.total.invited} invited`),
      card("response_rate", "Response rate", percent(scores.total.response_rate)),
      card("detractors", "Detractors", scores.total.detractors,
           `${scores.total.promoters} promoters`)),
    chart("trend", {
      tooltip: { trigger: "axis" }, legend: { type: "scroll" },
      xAxis: { type: "category", data: periods }, yAxis: { type: "value", name },
      series: scores.groups.map((group) => ({
        name: groupName(group.key),
        type: "line",
        symbolSize: 9,
        connectNulls: true,
        data: periods.map((period) => group.series.find((p) => p.period_start === period)?.score ?? null),
      })),
    }),
    table("groups", [["group", (g) => groupName(g.key)], ["score", (g) => fixed(g.total.score)],
                     ["responses", (g) => g.total.responses], ["invited", (g) => g.total.invited],
                     ["response rate", (g) => percent(g.total.response_rate)],
                     ["detractors", (g) => g.total.detractors], ["passives", (g) => g.total.passives],
                     ["promoters", (g) => g.total.promoters]],
          scores.groups, { key: (g) => g.key }),
    el("h2", {}, `What detractors talk about (${topics.answers} answers)`),
    topics.topics.length ? chart("topics", {
      tooltip: {}, xAxis: { type: "value" }, grid: { left: 140 },
      yAxis: { type: "category", data: topics.topics.map((t) => t.name_en || t.topic).reverse() },
      series: [{ type: "bar", barMaxWidth: 28, data: topics.topics.map((t) => t.mentions).reverse() }],
    }) : el("p", { class: "muted" }, "No detractor named a topic in these 90 days."),
    table("topics", [["topic", (t) => [t.name_en, t.name_zh].filter(Boolean).join(" · ") || t.topic],
                     ["mentions", (t) => t.mentions], ["share", (t) => percent(t.share)]],
          topics.topics, { key: (t) => t.topic }),
  ];
}

async function cases(argument) {
  const filters = filtersFrom(argument, { group_by: "dealer", period: "week" });
  const [report, dealer] = await Promise.all([api("/v1/tickets/reports/sla", filters), dealerLabel()]);
  const { rows, totals } = report;
  const groupName = (row) => (filters.group_by === "dealer" ? dealer(row.group) : row.group) ?? "—";
  const label = (row) => `${groupName(row)} ${row.period_start ?? ""}`;
  return [
    el("h1", {}, "Case backlog and SLA compliance"),
    filtersForm([
      select("group_by", [["dealer", "dealer"], ["queue", "queue"], ["kind", "kind"]], filters.group_by),
      select("period", PERIODS, filters.period),
    ], (values) => goTo("cases", values)),
    el("div", { class: "cards" },
      card("backlog", "Backlog", totals.backlog, `${totals.opened} opened, ${totals.resolved} resolved`),
      card("first_response", "First response met", percent(totals.first_response.rate),
           `${totals.first_response.breached} breached`),
      card("resolution", "Resolution met", percent(totals.resolution.rate),
           `${totals.resolution.breached} breached`),
      card("hours_to_resolve", "Mean time to resolve", duration(totals.mean_hours_to_resolve) ?? "—",
           `since ${day(report.since)}`)),
    chart("sla", {
      tooltip: { trigger: "axis" }, legend: {},
      xAxis: { type: "category", data: rows.map(label),
               axisLabel: { interval: 0, rotate: rows.length > 4 ? 20 : 0 } },
      yAxis: { type: "value" }, grid: { bottom: 90 },
      series: [
        { name: "opened", type: "bar", data: rows.map((r) => r.opened) },
        { name: "backlog", type: "bar", data: rows.map((r) => r.backlog) },
        { name: "first-response breaches", type: "bar", data: rows.map((r) => r.first_response.breached) },
        { name: "resolution breaches", type: "bar", data: rows.map((r) => r.resolution.breached) },
      ],
    }),
    table("rows", [["group", groupName], ["period", (r) => r.period_start], ["opened", (r) => r.opened],
                   ["resolved", (r) => r.resolved], ["backlog", (r) => r.backlog],
                   ["first response met", (r) => percent(r.first_response.rate)],
                   ["first response breached", (r) => r.first_response.breached],
                   ["resolution met", (r) => percent(r.resolution.rate)],
                   ["resolution breached", (r) => r.resolution.breached],
                   ["reopen rate", (r) => percent(r.reopen_rate)]],
          rows, { key: (r) => `${r.group ?? ""}|${r.period_start ?? ""}` }),
  ];
}

async function quality(alertId) {
  const [alerts, dealer] = await Promise.all([
    api("/v1/telematics/quality/alerts", { limit: 100 }), dealerLabel()]);
  const chosen = alertId || alerts.items[0]?.id;
  return [
    el("h1", {}, "Quality alerts"),
    alerts.items.length ? "" : el("p", { class: "muted" }, "No alert has been raised."),
    table("alerts", [["component", (a) => a.component], ["batch", (a) => a.batch_code],
                     ["failures", (a) => a.failures], ["rate ratio", (a) => fixed(a.rate_ratio)],
                     ["95% lower bound", (a) => fixed(a.rate_ratio_lower_bound), "lower_bound"],
                     ["corrected p", (a) => Number(a.corrected_p_value).toExponential(2)],
                     ["threshold km", (a) => fixed(a.threshold_km, 0)], ["raised", (a) => minute(a.raised_at)]],
          alerts.items, { key: (a) => a.id, isSelected: (a) => a.id === chosen,
                          onRowClick: (a) => { location.hash = `quality/${a.id}`; } }),
    ...(chosen ? await qualityAlert(chosen, dealer) : []),
  ];
}

async function qualityAlert(alertId, dealer) {
  const alert = await api(`/v1/telematics/quality/alerts/${encodeURIComponent(alertId)}`);
  const bandName = (b) => `${b.from_km / 1000}–${b.to_km / 1000}k km`;
  const line = (name, values, style = {}) => ({ name, type: "line", data: values, ...style });
  const dashed = { lineStyle: { type: "dashed" }, symbol: "none" };
  // Where the batch starts failing more than the fleet.
  const from = alert.bands.find((b) => b.from_km >= alert.threshold_km);
  const markLine = from && { symbol: "none", label: { formatter: `${fixed(alert.threshold_km, 0)} km` },
                             data: [{ xAxis: bandName(from) }] };
  return [
    el("h2", { "data-alert": alert.id },
       `${alert.component} batch ${alert.batch_code}: failures per 10,000 km by mileage`),
    chart("hazard", {
      tooltip: { trigger: "axis" }, legend: {},
      xAxis: { type: "category", data: alert.bands.map(bandName) },
      yAxis: { type: "value", name: "per 10,000 km" },
      series: [
        line("batch", alert.bands.map((b) => b.hazard_per_10000km), { symbolSize: 8, markLine }),
        line("batch 95% upper", alert.bands.map((b) => b.hazard_interval[1]), dashed),
        line("batch 95% lower", alert.bands.map((b) => b.hazard_interval[0]), dashed),
        line("rest of fleet", alert.bands.map((b) => b.rest_hazard_per_10000km), { symbolSize: 8 }),
      ],
    }),
    table("bands", [["mileage", bandName], ["batch failures", (b) => b.failures],
                    ["batch per 10,000 km", (b) => fixed(b.hazard_per_10000km, 2), "batch_rate"],
                    ["95% interval", (b) => b.hazard_interval.map((v) => fixed(v, 2)).join(" – "), "interval"],
                    ["fleet failures", (b) => b.rest_failures],
                    ["fleet per 10,000 km", (b) => fixed(b.rest_hazard_per_10000km, 2), "fleet_rate"]],
          alert.bands, { key: (b) => String(b.from_km) }),
    el("h2", {}, `Campaign: ${alert.targets.length} vehicles, most urgent first`),
    table("targets", [["VIN", (t) => t.vin], ["mileage km", (t) => fixed(t.mileage_km, 0)],
                      ["days to threshold", (t) => fixed(t.days_to_threshold)],
                      ["dealer", (t) => dealer(t.servicing_dealer_id)]],
          alert.targets, { key: (t) => t.vin }),
  ];
}

async function journeys(selected) {
  const definitions = await api("/v1/journeys/definitions", { limit: 100 });
  const key = selected ? decodeURIComponent(selected) : definitions.items[0]?.key;
  return [
    el("h1", {}, "Journeys"),
    definitions.items.length ? "" : el("p", { class: "muted" },
      "No journey yet: create one from a template (GET /v1/journeys/journey-templates)."),
    table("definitions", [["journey", (d) => d.key], ["version", (d) => d.version],
                          ["status", (d) => d.status], ["category", (d) => d.category],
                          ["trigger", (d) => d.trigger_type], ["activated", (d) => minute(d.activated_at)]],
          definitions.items, { key: (d) => `${d.key}|${d.version}`, isSelected: (d) => d.key === key,
                               onRowClick: (d) => { location.hash = `journeys/${encodeURIComponent(d.key)}`; } }),
    ...(key ? await journeyMetrics(key) : []),
  ];
}

async function journeyMetrics(key) {
  const metrics = await api(`/v1/journeys/definitions/${encodeURIComponent(key)}/metrics`);
  const holdout = metrics.holdout;
  const stages = [["entered", metrics.entered], ["running", metrics.running],
                  ["completed", metrics.completed], ["converted", metrics.converted]];
  return [
    el("h2", { "data-journey": key }, `${key}: funnel`),
    el("div", { class: "cards" }, [...stages, ["exited", metrics.exited]].map(
      ([name, value]) => card(name, name[0].toUpperCase() + name.slice(1), value))),
    chart("funnel", {
      tooltip: {},
      series: [{ type: "funnel", sort: "none", left: "8%", width: "64%", minSize: "4%",
                 label: { formatter: "{b}: {c}" },
                 data: stages.map(([name, value]) => ({ name, value })) }],
    }),
    el("h2", {}, "Against the holdout"),
    table("holdout", [["group", (r) => r[0]], ["owners", (r) => r[1]], ["converted", (r) => r[2]],
                      ["conversion", (r) => percent(r[3])]],
          [["treated", metrics.entered, metrics.converted, holdout.treated_conversion_rate],
           ["held out", holdout.held_out, holdout.converted, holdout.holdout_conversion_rate]],
          { key: (r) => r[0] }),
    el("p", { "data-figure": "uplift" }, "Uplift: ", el("span", { class: "value" }, percent(holdout.uplift) ?? "—")),
    table("steps", [["step", (s) => s[0]], ["standing", (s) => s[1].standing],
                    ["messaged", (s) => s[1].messaged],
                    ["deferred", (s) => counts(s[1].deferred)],
                    ["suppressed", (s) => counts(s[1].suppressed)]],
          Object.entries(metrics.steps), { key: (s) => s[0] }),
  ];
}

const counts = (byReason) =>
  Object.entries(byReason).map(([reason, count]) => `${reason} ${count}`).join(", ") || null;

async function owner(ownerId) {
  const form = filtersForm([el("label", {}, "Owner id ",
    el("input", { name: "owner", size: 40, value: ownerId || "", placeholder: "uuid" })),
    el("button", { type: "submit" }, "Show")], (values) => {
      if (values.owner) location.hash = `owner/${values.owner.trim()}`;
    });
  if (!ownerId) return ownerList(form);
  const [view, dealer] = await Promise.all([
    api(`/v1/profile/owners/${encodeURIComponent(ownerId)}/360`), dealerLabel()]);
  const who = view.identity;
  return [
    el("h1", { "data-owner": who.owner_id }, `${who.full_name} · ${view.lifecycle.stage ?? ""}`), form,
    el("div", { class: "cards" },
      card("contact", "Contact", `${who.email ?? "—"} · ${who.phone ?? "—"}`,
           `${who.city ?? ""} · ${who.preferred_language}`),
      card("points", "Points", view.points),
      card("segments", "Segments", view.segments.map((s) => s.segment_name ?? s.segment_key).join(", ") || "—"),
      card("tags", "Tags", view.tags.join(", ") || "—")),
    el("h2", {}, "Vehicles"),
    table("vehicles", [["VIN", (v) => v.vin], ["model", (v) => v.model], ["delivered", (v) => v.delivery_date],
                       ["dealer", (v) => dealer(v.servicing_dealer_id)],
                       ["batches", (v) => (v.components || []).map((c) => `${c.component} ${c.batch_code}`).join(", ")]],
          view.vehicles, { key: (v) => v.vin }),
    el("h2", {}, "Open cases"),
    table("open_tickets", [["number", (t) => t.number], ["kind", (t) => t.kind], ["status", (t) => t.status],
                           ["priority", (t) => t.priority], ["opened", (t) => minute(t.created_at)]],
          view.open_tickets, { key: (t) => t.ticket_id }),
    el("h2", {}, "NPS and CSAT answers"),
    table("answers", [["when", (a) => minute(a.submitted_at)], ["kind", (a) => a.kind], ["score", (a) => a.score],
                      ["touchpoint", (a) => a.touchpoint], ["dealer", (a) => dealer(a.dealer_id)]],
          view.nps_csat_history, { key: (a) => a.response_id }),
    el("h2", {}, "Timeline"),
    table("timeline", [["when", (i) => minute(i.at)], ["what", (i) => i.kind], ["", (i) => i.summary, "summary"],
                       ["from", (i) => i.source]], view.timeline),
  ];
}

async function ownerList(form) {
  const owners = await api("/v1/profile/owners", { limit: 50 });
  return [
    el("h1", {}, "Owner 360"), form,
    el("p", { class: "muted" }, `${owners.total} owners; the first ${owners.items.length}:`),
    table("owners", [["name", (o) => o.full_name], ["email", (o) => o.email], ["city", (o) => o.city],
                     ["language", (o) => o.preferred_language]],
          owners.items, { key: (o) => o.id, onRowClick: (o) => { location.hash = `owner/${o.id}`; } }),
  ];
}

// The pages a dealer's key may open; the others are for staff.
export const pages = { feedback, cases, quality, journeys, owner };
export const dealerPages = new Set(["feedback", "cases", "owner"]);
