// `npm run package`: the npm package's tarball (evx-analytics-VERSION.tgz), packed from a staged copy.
//
// - The published package.json has no `scripts`. They all need the repository (`prepare` builds
//   dist/ in a clone, so that `npm ci` builds), and npm warns about a `prepare` on an install from a
//   tarball or a folder (`npm warn install-scripts … (prepare: node scripts/build.mjs)`). The
//   checkout's package.json is never rewritten: packing the checkout through prepack/postpack
//   (strip, then restore) would leave it stripped when a pack fails or is interrupted in between.
// - dist/ holds the current build only (dist/build.json): the checkout's dist/ keeps the previous
//   build's chunks one build longer, for CLIs still running.
// - A plain `npm pack` or `npm publish` in the checkout stops at prepack (`guard`) and says this.
//   Publish the tarball: `npm publish ./evx-analytics-VERSION.tgz`.
//
// Usage: node scripts/pack.mjs [--no-build] [--pack-destination DIR]   (prints the tarball's path)
//        node scripts/pack.mjs guard                                    (prepack: exits 1)
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

/** The package.json that ships: the checkout's without its scripts. */
function publishedManifest(manifest) {
  const { scripts: _, ...rest } = manifest;
  return rest;
}

function fail(message) {
  process.stderr.write(`pack: ${message}\n`);
  process.exit(1);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "no-build": { type: "boolean" }, "pack-destination": { type: "string" } },
});

if (positionals[0] === "guard") {
  fail(
    `\`npm ${process.env.npm_command ?? "pack"}\` in the checkout would ship its scripts (npm warns about \`prepare\` on install); run \`npm run package\`, then \`npm i -g ./${pkg.name}-${pkg.version}.tgz\` or \`npm publish ./${pkg.name}-${pkg.version}.tgz\``,
  );
} else if (positionals.length > 0) fail(`unknown argument: ${positionals[0]}`);

if (!values["no-build"]) {
  const b = spawnSync(process.execPath, [join(root, "scripts", "build.mjs"), "--clean"], {
    stdio: "inherit",
  });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

let build;
try {
  build = JSON.parse(readFileSync(join(root, "dist", "build.json"), "utf8"));
} catch {
  fail("dist/build.json is missing: run `npm run build` (or drop --no-build)");
}
if (build.version !== pkg.version)
  fail(`dist/ is a build of ${build.version}, package.json says ${pkg.version}: run \`npm run build\``);

const stage = mkdtempSync(join(tmpdir(), "evx-pack-stage-"));
try {
  // What `files` names, with dist/ limited to the current build.
  for (const entry of pkg.files) {
    const rel = entry.replace(/\/$/, "");
    const names = rel === "dist" ? ["build.json", ...build.files].map((f) => join("dist", f)) : [rel];
    for (const name of names) cpSync(join(root, name), join(stage, name), { recursive: true });
  }
  writeFileSync(join(stage, "package.json"), `${JSON.stringify(publishedManifest(pkg), null, 2)}\n`);
  const dest = resolve(values["pack-destination"] ?? root);
  // The staged folder by its absolute path, its scripts (none) not run; npm's notices go to stderr.
  const r = spawnSync("npm", ["pack", stage, "--ignore-scripts", "--json", "--pack-destination", dest], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) fail(`npm pack failed (exit ${r.status ?? r.signal})`);
  const [info] = JSON.parse(r.stdout);
  process.stdout.write(`${join(dest, info.filename)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
