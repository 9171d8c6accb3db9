// hookgate inspector: live rows from /api/stream, and the replay/retry/enable buttons.
"use strict";

function badge(text, cls) {
  const span = document.createElement("span");
  span.className = "badge " + cls;
  span.textContent = text;
  return span;
}

function liveRow(e) {
  const tr = document.createElement("tr");
  tr.className = "new";
  tr.dataset.id = e.id;
  const cells = [
    () => { const a = document.createElement("a"); a.href = "/ui/events/" + e.id; a.textContent = e.id; return a; },
    () => document.createTextNode(e.received_at),
    () => document.createTextNode(e.source),
    () => document.createTextNode(e.type || "—"),
    () => badge(e.verification.status, e.verification.status === "verified" ? "ok" : "muted"),
    () => {
      const d = e.deliveries, frag = document.createDocumentFragment();
      if (d.pending) frag.append(badge(d.pending + " pending", "wait"));
      if (d.dead) frag.append(badge(d.dead + " dead", "bad"));
      if (!d.pending && !d.dead) frag.append(document.createTextNode("—"));
      return frag;
    },
  ];
  cells.forEach((make, i) => {
    const td = document.createElement("td");
    if (i === 0) td.className = "mono";
    if (i === 1 || i === 4) td.className = "wide";
    td.append(make());
    tr.append(td);
  });
  return tr;
}

const list = document.querySelector("tbody[data-live]");
if (list && window.EventSource) {
  const stream = new EventSource("/api/stream");
  stream.addEventListener("event", (msg) => {
    const e = JSON.parse(msg.data);
    document.querySelector("[data-empty]")?.remove();
    list.prepend(liveRow(e));
  });
}

async function post(url, body) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  if (!r.ok && r.status !== 204) {
    const err = await r.json().catch(() => ({}));
    alert((err.error && err.error.message) || ("HTTP " + r.status));
    return false;
  }
  return true;
}

document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-post]");
  if (!b) return;
  b.disabled = true;
  const body = b.dataset.body ? JSON.parse(b.dataset.body) : {};
  if (await post(b.dataset.post, body)) {
    // Let the dispatcher take its first attempt, then show it.
    setTimeout(() => location.reload(), Number(b.dataset.wait || 800));
  } else {
    b.disabled = false;
  }
});
