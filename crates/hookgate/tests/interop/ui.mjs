// The inspector in a real browser (Debian's Chromium, driven by playwright-core): a new event
// appears in the list without a reload, the detail page shows the body and the attempts, and
// the replay button creates a new attempt. Screenshots go to SHOTS (light, dark, phone width).
//
//   node ui.mjs NODE_DIR BASE SHOTS
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// playwright-core lives in target/interop/node, away from this file: require it from there.
const [nodeDir, base, shots] = process.argv.slice(2);
const { chromium } = createRequire(join(nodeDir, "node_modules", "/"))("playwright-core");

mkdirSync(shots, { recursive: true });
const fail = (msg) => { console.error(msg); process.exit(1); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/ui");
  await page.waitForLoadState("networkidle").catch(() => {});
  // Give EventSource a moment to connect, then send an event from outside the page.
  await page.waitForTimeout(500);
  const sent = await fetch(base + "/in/shop", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "order.created", order: { id: 42, total: 19.99, paid: true } }),
  });
  if (sent.status !== 200) fail("ingest answered " + sent.status);
  const { id } = await sent.json();
  const row = page.locator(`tr[data-id="${id}"]`);
  await row.waitFor({ timeout: 10000 }).catch(() => fail("the new event never appeared in the list"));
  await page.screenshot({ path: shots + "/list.png", fullPage: true });

  // Detail: body pretty-printed, the attempt from the first delivery.
  await row.locator("a").click();
  await page.waitForURL("**/ui/events/" + id);
  for (let i = 0; i < 40 && (await page.locator("table.attempts tbody tr").count()) === 0; i++) {
    await page.waitForTimeout(250);
    await page.reload();
  }
  const attempts = await page.locator("table.attempts tbody tr").count();
  if (attempts < 1) fail("no attempt shown on the detail page");
  const body = await page.locator("pre.json").innerText();
  if (!body.includes('"total": 19.99')) fail("the body is not shown pretty-printed: " + body);
  if ((await page.locator("pre.json span.k").count()) === 0) fail("the body is not coloured");
  await page.screenshot({ path: shots + "/detail.png", fullPage: true });

  // Replay: one more attempt appears (in a new delivery).
  await page.getByRole("button", { name: "Replay" }).click();
  await page.waitForLoadState("load");
  let after = 0;
  for (let i = 0; i < 40; i++) {
    await page.waitForTimeout(250);
    await page.reload();
    after = await page.locator("table.attempts tbody tr").count();
    if (after > attempts) break;
  }
  if (after <= attempts) fail(`replay made no new attempt (${attempts} → ${after})`);
  await page.screenshot({ path: shots + "/replayed.png", fullPage: true });

  // Dark mode and phone width render too.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/ui");
  await page.screenshot({ path: shots + "/list-dark-phone.png", fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  if (overflow) fail("the list overflows a phone-width screen");
  for (const path of ["/ui/destinations", "/ui/sources", "/ui?delivery_status=dead"]) {
    const r = await page.goto(base + path);
    if (r.status() !== 200) fail(path + " answered " + r.status());
  }
  await page.goto(base + "/ui/destinations");
  await page.screenshot({ path: shots + "/destinations-dark-phone.png", fullPage: true });
  if (errors.length) fail("script errors: " + errors.join("; "));
  console.log(JSON.stringify({ id, attempts, after }));
} finally {
  await browser.close();
}
