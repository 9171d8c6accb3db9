// Drives @octokit/webhooks-methods (GitHub's official JavaScript helpers) for
// crates/hookgate/tests/interop.rs.
//
//   node octokit.mjs NODE_DIR sign   --secret S --body-file F
//   node octokit.mjs NODE_DIR verify --secret S [--secret S2]... --body-file F --header 'Name: value'...
//
// NODE_DIR is target/interop/node (setup.sh installs the package there). `sign` prints
// `X-Hub-Signature-256: sha256=<hex>`. `verify` exits 0 when the package accepts the
// X-Hub-Signature-256 header and 1 when it rejects it; with several secrets it calls
// verifyWithFallback (the first secret, then the others: GitHub secret rotation). Any other
// exit (2 for bad arguments, 3 for an exception) is a broken driver, never a verdict.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

// ESM resolves a bare package name from the importing file's folder, and this file lives in
// the source tree, away from target/interop/node/node_modules: load the package's own node
// entry point (its package.json `exports`) from there instead.
async function loadMethods(nodeDir) {
  const pkgDir = join(nodeDir, "node_modules", "@octokit", "webhooks-methods");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  return import(pathToFileURL(join(pkgDir, pkg.exports["."].node.import)).href);
}

function usage(message) {
  console.error(`octokit.mjs: ${message}`);
  process.exit(2);
}

async function main() {
  const [nodeDir, action, ...rest] = process.argv.slice(2);
  if (!nodeDir || !["sign", "verify"].includes(action)) {
    usage("usage: octokit.mjs NODE_DIR sign|verify --secret S --body-file F [--header 'N: v']...");
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      secret: { type: "string", multiple: true },
      "body-file": { type: "string" },
      header: { type: "string", multiple: true, default: [] },
    },
  });
  const secrets = values.secret ?? usage("--secret is required");
  const bodyFile = values["body-file"] ?? usage("--body-file is required");
  // The package takes the payload as a string (the raw body as UTF-8 text).
  const payload = readFileSync(bodyFile, "utf8");
  const { sign, verify, verifyWithFallback } = await loadMethods(nodeDir);

  if (action === "sign") {
    if (secrets.length !== 1) usage("sign takes exactly one --secret");
    console.log(`X-Hub-Signature-256: ${await sign(secrets[0], payload)}`);
    return 0;
  }
  let signature;
  for (const line of values.header) {
    const at = line.indexOf(":");
    if (at < 0) usage(`header ${JSON.stringify(line)} is not 'Name: value'`);
    if (line.slice(0, at).trim().toLowerCase() === "x-hub-signature-256") {
      signature = line.slice(at + 1).trim();
    }
  }
  if (signature === undefined) {
    console.error("rejected: no X-Hub-Signature-256 header");
    return 1;
  }
  const valid =
    secrets.length === 1
      ? await verify(secrets[0], payload, signature)
      : await verifyWithFallback(secrets[0], payload, signature, secrets.slice(1));
  if (!valid) {
    console.error("rejected: @octokit/webhooks-methods verify returned false");
    return 1;
  }
  console.log("valid: @octokit/webhooks-methods accepts the signature");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(3);
  },
);
