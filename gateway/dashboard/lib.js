// Plumbing shared by the pages: the signed-in credential, calls to the gateway's public API,
// and DOM builders that expose every figure in stable data-* attributes (data-table/data-key/
// data-field for tables, data-figure for cards, data-chart for charts), so a browser test can
// read what is shown and compare it with the API.

const CREDENTIAL = "cem-dashboard-credential";

export const credential = () => sessionStorage.getItem(CREDENTIAL) || "";
export const setCredential = (value) => sessionStorage.setItem(CREDENTIAL, value);
export const forgetCredential = () => sessionStorage.removeItem(CREDENTIAL);
// A dealer's key shows that dealer only; the staff pages need a staff token.
export const isDealerKey = () => credential().startsWith("cem_");

export class SignedOut extends Error {}

function credentialHeaders() {
  return isDealerKey() ? { "X-API-Key": credential() } : { Authorization: `Bearer ${credential()}` };
}

export async function api(path, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== "" && value != null));
  const url = query.toString() ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: credentialHeaders() });
  if (response.status === 401) throw new SignedOut("Signed out: the credential was refused");
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || `${response.status} on ${path}`);
  return body;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  }
  return node;
}

const slug = (title) => title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");

// columns: [title, value(row), field?]; each row is keyed by key(row), each cell by its field;
// the rows that are `isSelected` are marked as the one shown in detail.
export function table(name, columns, rows, { key, onRowClick, isSelected } = {}) {
  const classes = (row) => [onRowClick && "clickable", isSelected?.(row) && "selected"]
    .filter(Boolean).join(" ") || null;
  return el("table", { "data-table": name },
    el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title)))),
    el("tbody", {}, rows.map((row, index) => el("tr", {
      "data-key": key ? key(row) ?? "" : String(index),
      class: classes(row),
      onclick: onRowClick ? () => onRowClick(row) : null,
    }, columns.map(([title, value, field]) => el("td", { "data-field": field || slug(title) },
      String(value(row) ?? "—")))))));
}

export function card(figure, title, value, note) {
  const text = String(value ?? "—");
  return el("div", { class: "card", "data-figure": figure }, el("h3", {}, title),
    el("div", { class: text.length <= 14 ? "value big" : "value" }, text),
    note == null ? "" : el("div", { class: "muted" }, note));
}

export function select(name, options, value) {
  return el("label", {}, `${name} `, el("select", { name },
    options.map(([optionValue, label]) => {
      const option = el("option", { value: optionValue }, label);
      option.selected = optionValue === value;
      return option;
    })));
}

export function filtersForm(fields, onChange) {
  const form = el("form", { class: "filters" }, fields);
  const changed = () => onChange(Object.fromEntries(new FormData(form)));
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => { event.preventDefault(); changed(); });
  return form;
}

// The chart is drawn once its holder is in the page (ECharts needs its size); data-drawn says
// its animation has finished.
export function chart(name, options) {
  const holder = el("div", { class: "chart", "data-chart": name });
  requestAnimationFrame(() => {
    if (!holder.isConnected) return;
    const instance = echarts.init(holder);
    instance.on("finished", () => { holder.dataset.drawn = "true"; });
    instance.setOption(options);
  });
  return holder;
}

export const percent = (rate) => (rate == null ? null : `${(rate * 100).toFixed(1)}%`);
export const fixed = (value, digits = 1) => (value == null ? null : Number(value).toFixed(digits));
// A span of hours as people read it: minutes under an hour, days past two.
export const duration = (hours) => {
  if (hours == null) return null;
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  return hours < 48 ? `${fixed(hours)} h` : `${fixed(hours / 24)} d`;
};
export const day = (moment) => (moment ? String(moment).slice(0, 10) : null);
export const minute = (moment) => (moment ? String(moment).slice(0, 16).replace("T", " ") : null);

// Dealer ids become "code name" wherever a dealer is shown (one lookup per sign-in).
let dealerNames;
export async function dealerLabel() {
  if (!dealerNames) {
    const dealers = await api("/v1/profile/dealers", { limit: 200 }).catch(() => ({ items: [] }));
    dealerNames = new Map(dealers.items.map((d) => [d.id, `${d.code} ${d.name}`]));
  }
  return (id) => (id == null ? null : dealerNames.get(id) ?? id);
}

export function forgetDealers() {
  dealerNames = undefined;
}
