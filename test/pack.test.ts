/**
 * The npm package (evx-analytics, command evx): packed by scripts/pack.mjs (`npm run package`) from
 * this checkout's build, installed into an empty prefix (no access to the repository's node_modules:
 * npm fetches the one runtime dependency, from its cache or the registry) with no install-scripts
 * warning, and run from another folder: `evx --version`, `evx demo --no-ui`, `evx events --json`.
 * Also `npx ./evx-analytics-*.tgz`. Skipped only when npm is not available.
 *
 * pack.mjs stages what `files` names, with dist/ limited to the current build (dist/build.json: the
 * checkout's dist/ keeps the previous build's chunks one build longer for CLIs still running) and a
 * package.json without scripts. It runs here without its build, which would rewrite dist/ under the
 * other tests.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { describe, it, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./helpers/tmp.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const npm = spawnSync("npm", ["--version"], { encoding: "utf8" });
const hasNpm = npm.status === 0;

/**
 * The environment of a user's shell: no NODE_PATH, no EVX_*, none of the npm_* that `npm test` sets
 * (its local prefix would point npm at this checkout), but the registry and cache npm was given.
 */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const keep =
    /^npm_config_(registry|cache|userconfig|globalconfig|strict_ssl|cafile|proxy|https_proxy|noproxy)$/i;
  for (const [k, v] of Object.entries(process.env))
    if (keep.test(k) || !/^(npm_|NODE_PATH$|NODE_OPTIONS$|EVX_|INIT_CWD$)/i.test(k)) env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 300_000) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

/** `run` without blocking, so that two run at once. */
function runAsync(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 300_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd, env, encoding: "utf8", timeout }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, stdout, stderr }),
    );
  });
}

function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) n += readFileSync(join(e.parentPath, e.name)).length;
  return n;
}

describe("the npm package", { skip: hasNpm ? false : "npm is not available on PATH" }, () => {
  const dir = tempDir("evx-pack-");
  let tgz = "";

  it("packs only what runs, under the package's name, with no scripts; `npm pack` in the checkout says to use `npm run package`", (t) => {
    // scripts/pack.mjs, as `npm run package` runs it, without its build: a build here would rewrite
    // dist/ under the other tests.
    const r = run(
      process.execPath,
      [join(ROOT, "scripts", "pack.mjs"), "--no-build", "--pack-destination", dir],
      dir,
      cleanEnv({}),
    );
    assert.equal(r.code, 0, r.stderr);
    tgz = r.stdout.trim();
    assert.equal(tgz, join(dir, `${PKG.name}-${PKG.version}.tgz`));
    assert.equal(PKG.name, "evx-analytics", "the npm name evx belongs to another package");

    const unpacked = join(dir, "unpacked");
    mkdirSync(unpacked);
    const x = run("tar", ["-xzf", tgz, "-C", unpacked], dir, cleanEnv({}));
    assert.equal(x.code, 0, x.stderr);
    const pkgRoot = join(unpacked, "package");
    const paths = readdirSync(pkgRoot, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(pkgRoot, join(e.parentPath, e.name)).split(sep).join("/"))
      .sort();
    for (const p of paths)
      assert.match(
        p,
        /^(package\.json|README\.md|LICENSE|bin\/evx|bin\/package\.json|dist\/.+\.(js|js\.map|json))$/,
        p,
      );
    // dist/ as the current build lists it, none of the previous build's chunks the checkout keeps.
    const built = JSON.parse(readFileSync(join(ROOT, "dist", "build.json"), "utf8")) as { files: string[] };
    assert.deepEqual(
      paths.filter((p) => p.startsWith("dist/")),
      ["dist/build.json", ...built.files.map((f) => `dist/${f.split(sep).join("/")}`)].sort(),
    );
    assert.ok(paths.includes("dist/cli.js") && paths.includes("dist/cli.js.map"));
    assert.ok(
      paths.some((p) => /^dist\/chunks\/.+\.js\.map$/.test(p)),
      "source maps of the chunks",
    );

    // The shipped package.json: the checkout's, without scripts (they need the repository; npm
    // warns about a `prepare` on an install from a tarball). The checkout keeps `prepare`, so that
    // `npm ci` in a clone builds dist/.
    const shipped = JSON.parse(readFileSync(join(pkgRoot, "package.json"), "utf8"));
    const { scripts, ...rest } = PKG;
    assert.deepEqual(shipped, rest);
    assert.equal(scripts.prepare, "node scripts/build.mjs");
    assert.deepEqual(shipped.bin, { evx: "bin/evx" });

    // `npm pack` (and `npm publish`) in the checkout stop at prepack, before anything is built or
    // written, and name the way that works.
    const plain = run("npm", ["pack", "--dry-run"], ROOT, cleanEnv({}));
    assert.notEqual(plain.code, 0);
    assert.match(
      plain.stderr,
      /pack: `npm pack` in the checkout would ship its scripts .*run `npm run package`/,
    );
    t.diagnostic(
      `tarball ${(statSync(tgz).size / 1024).toFixed(0)} KB, unpacked ${(du(pkgRoot) / 1024).toFixed(0)} KB, ${paths.length} files`,
    );
  });

  it("installs into an empty prefix and runs from another folder", (t) => {
    assert.ok(tgz, "packed");
    const prefix = join(dir, "prefix");
    const elsewhere = join(dir, "elsewhere");
    mkdirSync(elsewhere);
    const env = cleanEnv({ XDG_CACHE_HOME: join(dir, "xdg") });
    const install = run(
      "npm",
      ["install", "--global", "--prefix", prefix, tgz, "--no-audit", "--no-fund", "--prefer-offline"],
      elsewhere,
      env,
    );
    assert.equal(install.code, 0, install.stderr);
    // No `npm warn install-scripts`: evx's package.json has no lifecycle script npm warns about
    // (preinstall, install, postinstall; prepare from a tarball; node-gyp for a binding.gyp), and
    // neither has any of its dependencies.
    assert.doesNotMatch(install.stdout + install.stderr, /install-scripts|allow-scripts/);
    const pkgDir = join(prefix, "lib", "node_modules", PKG.name);
    const installed = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    assert.equal(installed.name, "evx-analytics");
    assert.equal(installed.scripts, undefined);
    assert.ok(!existsSync(join(pkgDir, "binding.gyp")));
    // Runtime dependencies: the DuckDB binding (and what it needs), nothing of the dev tree.
    const deps = readdirSync(join(pkgDir, "node_modules")).flatMap((d) =>
      d.startsWith("@") ? readdirSync(join(pkgDir, "node_modules", d)).map((s) => `${d}/${s}`) : [d],
    );
    for (const d of deps)
      assert.match(d, /^(@duckdb\/node-(api|bindings.*)|detect-libc|\.bin|\.package-lock\.json)$/, d);
    t.diagnostic(
      `installed: ${(du(pkgDir) / 2 ** 20).toFixed(1)} MB (evx itself ${((du(pkgDir) - du(join(pkgDir, "node_modules"))) / 2 ** 20).toFixed(1)} MB); dependencies: ${deps.join(", ")}`,
    );

    const evx = join(prefix, "bin", "evx");
    const v = run(evx, ["--version"], elsewhere, env);
    assert.equal(v.code, 0, v.stderr);
    const built = JSON.parse(readFileSync(join(ROOT, "dist", "build.json"), "utf8")) as {
      version: string;
      commit: string | null;
    };
    assert.equal(v.stdout.trim(), `evx ${built.version}${built.commit ? ` (${built.commit})` : ""}`);

    const demo = run(evx, ["demo", "--no-ui", "--events", "20000"], elsewhere, env);
    assert.equal(demo.code, 0, demo.stderr);
    const events = run(evx, ["events", "--json"], elsewhere, env);
    assert.equal(events.code, 0, events.stderr);
    const catalog = JSON.parse(events.stdout) as { events: { event_type: string; events: number }[] };
    assert.equal(
      catalog.events.reduce((n, e) => n + e.events, 0),
      20_000,
    );
    const completion = run(evx, ["completion", "bash"], elsewhere, env);
    assert.match(completion.stdout, /complete -o default -F _evx_complete evx/);
    const tab = run(evx, ["__complete", "bash", "evx", "fun"], elsewhere, env);
    assert.equal(tab.stdout, "funnel\n");
    const doctor = run(evx, ["doctor", "--json"], elsewhere, env);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string }[] }).checks;
    assert.equal(checks.find((c) => c.name === "duckdb")?.status, "ok");
  });

  it("runs with npx from the tarball; two checkouts' runs at once each get their own npx install", async () => {
    assert.ok(tgz, "packed");
    // npx installs into the npm cache's _npx/HASH, HASH of the spec as typed, and every checkout on
    // the machine shares that cache. With `./evx-0.1.0.tgz`, two runs at once (another clone's CI, a
    // second worktree) shared one install, and one's npx replaced or removed the files that the
    // other's running evx was still loading chunks from ("Cannot find module …/chunks/chunk-….js").
    // So the spec names the run's own folder. Here a second checkout's pack folder (the same
    // tarball name) runs beside this one.
    const other = tempDir("evx-pack-");
    copyFileSync(tgz, join(other, basename(tgz)));
    // As a user types it: a path starting with ./ (a bare absolute path would be taken as a command).
    const specs = [dir, other].map((d) => `./${basename(d)}/${basename(tgz)}`);
    const cwd = dirname(dir);
    const npxDir = join(run("npm", ["config", "get", "cache"], dir, cleanEnv({})).stdout.trim(), "_npx");
    try {
      const runs = await Promise.all(
        specs.map((spec, i) => {
          const env = cleanEnv({ XDG_CACHE_HOME: join(dir, `xdg-npx-${i}`) });
          return runAsync(
            "npx",
            ["--yes", "--prefer-offline", spec, "demo", "--no-ui", "--events", "5000"],
            cwd,
            env,
          );
        }),
      );
      for (const r of runs) {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout + r.stderr, /evx events/);
      }
      const v = run("npx", ["--yes", "--prefer-offline", specs[0], "--version"], cwd, cleanEnv({}));
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, /^evx \d+\.\d+\.\d+/);
      const installs = specs.map((spec) => npxInstalls(npxDir).filter((d) => d.packages.includes(spec)));
      assert.deepEqual(
        installs.map((i) => i.length),
        [1, 1],
      );
      assert.notEqual(installs[0][0].path, installs[1][0].path, "one npx install per checkout");
    } finally {
      // This run's installs, and no one else's.
      for (const d of npxInstalls(npxDir))
        if (d.packages.some((p) => specs.includes(p))) rmSync(d.path, { recursive: true, force: true });
    }
  });
});

/** The installs in npm's _npx folder, with the package specs npx installed there. */
function npxInstalls(npxDir: string): { path: string; packages: string[] }[] {
  if (!existsSync(npxDir)) return [];
  return readdirSync(npxDir).map((d) => {
    const path = join(npxDir, d);
    try {
      const pkg = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as {
        _npx?: { packages?: string[] };
      };
      return { path, packages: pkg._npx?.packages ?? [] };
    } catch {
      return { path, packages: [] };
    }
  });
}

test("bin/evx on a Node older than 20: one line and exit 1, before anything of the bundle loads", () => {
  // The version is faked; the file is also plain old syntax (CommonJS, var, no arrow functions),
  // which Node 10 and 16 themselves parse and run to this message.
  const bin = join(ROOT, "bin", "evx");
  const r = spawnSync(
    process.execPath,
    [
      "-e",
      `Object.defineProperty(process.versions, "node", { value: "16.20.2" }); require(${JSON.stringify(bin)});`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^evx: needs Node\.js 20 or newer, and this is Node\.js 16\.20\.2 \(.+\); install a newer one/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.doesNotMatch(readFileSync(bin, "utf8"), /=>|\blet\b|\bconst\b|\?\?|\?\./, "plain old syntax");
});
