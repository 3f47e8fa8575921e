// The internal dashboard: plain DOM and ECharts over the gateway's public API, with the
// signed-in credential. What a caller may see is decided by the services, never here, so a
// dealer's key shows only that dealer; the pages for staff only are not offered to it.
//
// <main id="page"> carries data-page (the page shown) and data-state (loading, ready or
// error), so that a browser test knows when the figures are there to read.

import {
  SignedOut, api, credential, el, forgetCredential, forgetDealers, isDealerKey, setCredential,
} from "./lib.js";
import { dealerPages, pages } from "./pages.js";

const main = document.getElementById("page");
let shown = 0; // the latest navigation wins over slower earlier ones

function describeCredential(value) {
  if (value.startsWith("cem_")) return "dealer key";
  try {
    const claims = JSON.parse(atob(value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return `${claims.cem_kind} ${claims.sub}${claims.roles ? ` (${claims.roles.join(", ")})` : ""}`;
  } catch {
    return "token";
  }
}

// A dealer's key sees its own dealer only: the header names it.
async function nameTheDealer() {
  const dealers = await api("/v1/profile/dealers", { limit: 1 }).catch(() => ({ items: [] }));
  const own = dealers.items[0];
  if (own && isDealerKey()) document.getElementById("who").textContent = `dealer ${own.code} ${own.name}`;
}

function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error.message;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 6000);
}

function allowed(name) {
  return !isDealerKey() || dealerPages.has(name);
}

async function route() {
  const [name, ...rest] = (location.hash.slice(1) || "feedback").split("/");
  const page = pages[name] ? name : "feedback";
  const navigation = ++shown;
  document.querySelectorAll("header nav a").forEach((link) => {
    const target = link.getAttribute("href").slice(1);
    link.classList.toggle("active", target === page);
    link.hidden = !allowed(target);
  });
  main.dataset.page = page;
  main.dataset.state = "loading";
  try {
    const nodes = allowed(page)
      ? await pages[page](rest.join("/"))
      : [el("p", { class: "muted" }, "This page is for staff: sign in with a staff token.")];
    if (navigation !== shown) return;
    main.replaceChildren(...nodes);
    main.dataset.state = "ready";
  } catch (error) {
    if (navigation !== shown) return;
    if (error instanceof SignedOut) return signOut();
    main.replaceChildren(el("p", { class: "problem" }, error.message));
    main.dataset.state = "error";
    showError(error);
  }
}

function signOut() {
  forgetCredential();
  forgetDealers();
  showSignedIn();
}

function showSignedIn() {
  const signedIn = Boolean(credential());
  document.getElementById("login").hidden = signedIn;
  document.getElementById("logout").hidden = !signedIn;
  document.querySelector("header nav").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? describeCredential(credential()) : "";
  if (signedIn && isDealerKey()) nameTheDealer();
  if (signedIn) return route();
  main.replaceChildren();
  main.dataset.page = "login";
  main.dataset.state = "ready";
}

document.getElementById("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setCredential(document.getElementById("credential").value.trim());
  forgetDealers();
  showSignedIn();
});
document.getElementById("logout").addEventListener("click", signOut);
window.addEventListener("hashchange", () => credential() && route());
showSignedIn();
