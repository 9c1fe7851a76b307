// The gateway page: polls /_gateway/ui/state (behind the session cookie) once a second and redraws. No framework,
// nothing loaded from elsewhere; text is set with textContent only.
"use strict";

const statePath = "/_gateway/ui/state";
const loginPath = "/_gateway/ui/login";

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function time(text) {
  return new Date(text).toLocaleTimeString();
}

function secondsUntil(text, now) {
  return Math.max(0, Math.ceil((new Date(text) - new Date(now)) / 1000));
}

function breakerCell(backend, now) {
  if (backend.breaker !== "open") {
    return el("td", {}, el("span", { class: "state " + backend.breaker, "data-state": backend.breaker }, backend.breaker === "none" ? "no rule" : "available"));
  }
  const trip = backend.trip;
  const cause = trip.statusCode !== null && trip.statusCode !== undefined ? "status " + trip.statusCode : trip.errorReason;
  const length = trip.retryAfterHonoured ? "for as long as its Retry-After asked" : "for the rule's trip duration";
  return el("td", {},
    el("span", { class: "state open", "data-state": "open" }, "tripped until " + time(trip.until) + " (" + secondsUntil(trip.until, now) + " s)"),
    el("span", { class: "why" }, "by " + cause + (trip.rule ? " (rule " + trip.rule + ")" : "") + ", at " + time(trip.at) + ", " + length));
}

function drawBackends(state) {
  const body = document.querySelector("#backends tbody");
  body.replaceChildren(...state.backends.map(backend => el("tr", { "data-backend": backend.id },
    el("td", {}, backend.id),
    el("td", {}, backend.region || ""),
    breakerCell(backend, state.now),
    el("td", { class: "requests" }, backend.traffic.requests),
    el("td", { class: "mix" }, ...Object.entries(backend.traffic.statuses).map(([kind, count]) => el("span", {}, kind + ": " + count))))));
}

function drawPools(state) {
  const pools = document.getElementById("pools");
  pools.replaceChildren(...state.pools.map(pool => el("div", { class: "pool", "data-pool": pool.id },
    el("h3", {}, pool.id + " ", pool.exhausted ? el("span", { class: "exhausted" }, "every member is tripped") : null),
    ...pool.members
      .slice()
      .sort((a, b) => a.priority - b.priority)
      .map(member => el("span", {
        class: "member" + (member.selectable ? " selectable" : "") + (member.available ? "" : " tripped") + (pool.next === member.backendId ? " next" : ""),
        title: member.selectable ? "the pool picks from this member now" : member.available ? "waits while a lower priority has an available member" : "its circuit breaker is tripped",
      }, member.backendId + " · priority " + member.priority + " · weight " + member.weight + (pool.next === member.backendId ? " · next" : ""))))));
}

function drawTokens(state) {
  const body = document.querySelector("#tokens tbody");
  body.replaceChildren(...state.tokenCounters.map(counter => {
    const share = counter.max > 0 ? Math.min(1, counter.used / counter.max) : 0;
    const bar = el("div", { class: share >= 1 ? "full" : share >= 0.8 ? "high" : "" });
    bar.style.width = Math.round(share * 100) + "%";
    return el("tr", { "data-counter": counter.key },
      el("td", {}, counter.key),
      el("td", {}, counter.limit),
      el("td", {}, counter.used),
      el("td", {}, counter.max),
      el("td", {}, el("div", { class: "bar" }, bar)));
  }));
  document.getElementById("no-tokens").hidden = state.tokenCounters.length > 0;
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const response = await fetch(statePath, { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) {
      window.location.assign(loginPath);
      return;
    }
    if (!response.ok) {
      throw new Error("status " + response.status);
    }
    const state = await response.json();
    drawBackends(state);
    drawPools(state);
    drawTokens(state);
    status.textContent = "live, " + time(state.now);
    status.classList.remove("stale");
  } catch (error) {
    status.textContent = "not updating: " + error.message;
    status.classList.add("stale");
  }
}

refresh();
setInterval(refresh, 1000);
