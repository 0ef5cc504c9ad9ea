/**
 * Shell completion, through the real scripts: `evx completion bash` is sourced in bash, COMP_WORDS
 * and COMP_CWORD (and COMP_LINE/COMP_POINT) are set as bash sets them, the completion function runs,
 * and COMPREPLY is checked, event names and property keys of a real cache included. The scripts
 * call `evx` from PATH: a folder with a link to bin/evx goes first on it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Cache, CacheLockedError } from "../src/cache/db.js";
import { indexPathFor } from "../src/commands/completion.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evx } from "./helpers/cli.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const BIN = fileURLToPath(new URL("../bin/evx", import.meta.url));
const hasBash = spawnSync("bash", ["--version"]).status === 0;

/** Opens `cache` read-write in this process, once no cache host holds it (hosts leave when idle). */
async function holdLocally(cache: string): Promise<Cache> {
  const t0 = Date.now();
  for (;;) {
    try {
      return await Cache.open(cache, { local: true });
    } catch (e) {
      if (!(e instanceof CacheLockedError) || Date.now() - t0 > 30_000) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("shell completion", { skip: hasBash ? false : "bash is not installed" }, () => {
  // Made here, not in before(): tempDir's clean-up belongs to the suite, not to the hook.
  const dir = tempDir();
  let env: NodeJS.ProcessEnv;
  let cache: string;
  let script: string;

  before(() => {
    mkdirSync(join(dir, "bin"));
    symlinkSync(BIN, join(dir, "bin", "evx"));
    writeLakeFiles(join(dir, "lake"), {
      "date=2023-06-01/part-0.jsonl": jsonl([
        ev("app_opened", "2023-06-01T00:00:00Z", "u1", { platform: "ios", app_version: "1.2" }),
        ev("button_clicked", "2023-06-01T00:01:00Z", "u1", { button_name: "save", screen: "editor" }),
        ev("purchase", "2023-06-01T00:02:00Z", "u2", { plan: "pro", revenue: 12 }),
        ev("page viewed", "2023-06-01T00:03:00Z", "u2", { path: "/" }),
      ]),
    });
    cache = join(dir, "c.duckdb");
    env = {
      ...process.env,
      PATH: `${join(dir, "bin")}:${process.env.PATH}`,
      XDG_CACHE_HOME: join(dir, "xdg"),
      EVX_CACHE: cache,
      NO_COLOR: "1",
    };
    const r = evx(["sync", join(dir, "lake"), "--cache", cache, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const s = evx(["completion", "bash"], env);
    assert.equal(s.code, 0, s.stderr);
    script = join(dir, "evx.bash");
    writeFileSync(script, s.stdout);
  });

  /** COMPREPLY for a command line whose last word is under the cursor (split as bash splits). */
  function tab(words: string[], extraEnv: NodeJS.ProcessEnv = {}): string[] {
    const line = words.join(" ");
    const q = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
    const r = spawnSync(
      "bash",
      [
        "--norc",
        "--noprofile",
        "-c",
        [
          `source ${q(script)}`,
          `COMP_WORDS=(${words.map(q).join(" ")})`,
          `COMP_CWORD=${words.length - 1}`,
          `COMP_LINE=${q(line)}`,
          `COMP_POINT=${line.length}`,
          "_evx_complete",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
          'printf "%s\\n" "${COMPREPLY[@]}"',
        ].join("\n"),
      ],
      { encoding: "utf8", env: { ...env, ...extraEnv }, cwd: dir },
    );
    assert.equal(r.status, 0, `${r.error ?? r.signal ?? ""} ${r.stderr}`);
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  /** Tab until the background index of the cache exists (the first Tab on a cache starts it). */
  async function waitForIndex(): Promise<void> {
    const file = indexPathFor(cache, env);
    const t0 = Date.now();
    while (!existsSync(file)) {
      if (Date.now() - t0 > 30_000) assert.fail("the completion index was not written within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("commands, subcommands, flags and choices, from the CLI's own definitions", () => {
    assert.deepEqual(tab(["evx", "tr"]), ["trend"]);
    assert.ok(tab(["evx", ""]).includes("doctor"));
    assert.ok(tab(["evx", ""]).includes("completion"));
    assert.deepEqual(tab(["evx", "trend", "--br"]), ["--breakdown"]);
    assert.deepEqual(tab(["evx", "funnel", "--wi"]), ["--within"]);
    assert.deepEqual(tab(["evx", "clickhouse", ""]), ["schema", "load"]);
    assert.deepEqual(tab(["evx", "clickhouse", "load", "--clu"]), ["--cluster"]);
    assert.deepEqual(tab(["evx", "completion", ""]), ["bash", "zsh", "fish"]);
    assert.deepEqual(tab(["evx", "trend", "--engine", ""]), ["duckdb", "clickhouse"]);
    assert.deepEqual(tab(["evx", "demo", "--no-"]), ["--no-ui"]);
    // A flag already given is not offered again; a repeatable one is.
    assert.ok(!tab(["evx", "events", "--json", "--"]).includes("--json"));
    assert.ok(tab(["evx", "trend", "x", "--where", "a=1", "--"]).includes("--where"));
  });

  it("event names and property keys from the cache, once its index is written", async () => {
    // The first Tab on a cache answers without its words and starts the index in the background.
    const first = tab(["evx", "trend", ""]);
    assert.ok(!first.includes("purchase"), first.join(" "));
    await waitForIndex();
    const events = ["app_opened", "button_clicked", "page\\ viewed", "purchase"];
    assert.deepEqual(tab(["evx", "trend", ""]), events);
    assert.deepEqual(tab(["evx", "trend", "pu"]), ["purchase"]);
    assert.deepEqual(tab(["evx", "funnel", "app_opened", ""]), events);
    assert.deepEqual(tab(["evx", "retention", "app_opened", "b"]), ["button_clicked"]);
    assert.deepEqual(tab(["evx", "props", "a"]), ["app_opened"]);
    assert.deepEqual(tab(["evx", "user", "u1", "--event", "p"]), ["page\\ viewed", "purchase"]);
    // Property keys: of the events on the line, else of any event.
    assert.deepEqual(tab(["evx", "trend", "button_clicked", "--breakdown", ""]), ["button_name", "screen"]);
    assert.deepEqual(tab(["evx", "funnel", "app_opened", "purchase", "--breakdown", "p"]), [
      "plan",
      "platform",
    ]);
    assert.deepEqual(tab(["evx", "trend", "purchase", "--where", ""]), ["plan", "revenue"]);
    assert.ok(tab(["evx", "events", "--where", ""]).includes("button_name"));
    // bash splits `--where=` at the `=`: the candidates are the part after it.
    assert.deepEqual(tab(["evx", "trend", "purchase", "--where", "=", "re"]), ["revenue"]);
    // Inside a step's filter.
    assert.deepEqual(tab(["evx", "trend", "button_clicked[s"]), ["button_clicked[screen"]);
    // --cache offers caches and folders; with --engine clickhouse there is no cache to read.
    assert.deepEqual(tab(["evx", "events", "--cache", "c"]), ["c.duckdb"]);
    assert.deepEqual(tab(["evx", "trend", "--engine", "clickhouse", ""]), []);
  });

  it("a cache held by a sync outside shared mode: no cache words, a quick answer, the index left as it was", async () => {
    await waitForIndex();
    const file = indexPathFor(cache, env);
    rmSync(file);
    // Read-write and by this process itself, as an `EVX_SHARED=0` sync holds it: once the cache host an
    // earlier command started has left (it would otherwise serve the completion's reader, as below).
    const held = await holdLocally(cache);
    try {
      const t0 = performance.now();
      const words = tab(["evx", "trend", ""]);
      const ms = performance.now() - t0;
      assert.ok(!words.includes("purchase"));
      assert.ok(ms < 5000, `${ms} ms`);
      // The background reader cannot open the cache and gives up without writing an index.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(existsSync(file), false);
    } finally {
      held.close();
    }
    // Released: the next Tab starts a reader again (the lock of the failed one is gone).
    tab(["evx", "trend", ""]);
    await waitForIndex();
    assert.ok(tab(["evx", "trend", ""]).includes("purchase"));
  });

  it("a cache a sync holds through its host: the completion's reader reads through it", async () => {
    await waitForIndex();
    const file = indexPathFor(cache, env);
    rmSync(file);
    const shared = process.env.EVX_SHARED;
    process.env.EVX_SHARED = "1";
    const held = await Cache.open(cache); // the writer of the cache's host, as a shared sync
    try {
      tab(["evx", "trend", ""]);
      await waitForIndex();
      assert.ok(tab(["evx", "trend", ""]).includes("purchase"));
    } finally {
      held.close();
      if (shared === undefined) delete process.env.EVX_SHARED;
      else process.env.EVX_SHARED = shared;
    }
  });

  it("zsh and fish scripts, and the protocol they use", async () => {
    await waitForIndex();
    for (const shell of ["zsh", "fish"]) {
      const s = evx(["completion", shell], env);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /evx __complete/);
      writeFileSync(join(dir, `evx.${shell}`), s.stdout);
    }
    const zsh = evx(["__complete", "zsh", "evx", "fun"], env);
    assert.match(zsh.stdout, /^funnel:ordered funnel/m);
    const fish = evx(["__complete", "fish", "evx", "trend", "--inter"], env);
    assert.match(fish.stdout, /^--interval\tminute/m);
    const bad = evx(["completion", "powershell"], env);
    assert.equal(bad.code, 2);
  });

  it("in zsh: the script's function with words/CURRENT set, compsys stubbed", (t) => {
    if (spawnSync("zsh", ["--version"]).status !== 0) return t.skip("zsh is not installed");
    const run = (words: string[]) => {
      const harness = [
        "compdef() { :; }",
        "_files() { print -- FILES; }",
        // _describe -t TAG DESCR ARRAY: print the array it was given.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh, not a template
        '_describe() { local arr=$4; print -l -- "${(@P)arr}"; }',
        `source ${join(dir, "evx.zsh")}`,
        `words=(${words.map((w) => `'${w}'`).join(" ")})`,
        `CURRENT=${words.length}`,
        "_evx",
      ].join("\n");
      const r = spawnSync("zsh", ["-f", "-c", harness], { encoding: "utf8", env, cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split("\n").filter(Boolean);
    };
    assert.deepEqual(run(["evx", "tr"]), ["trend:counts over time per event (EVENT or EVENT[KEY OP VALUE])"]);
    assert.deepEqual(run(["evx", "trend", "p"]), ["page viewed:event", "purchase:event"]);
    assert.deepEqual(run(["evx", "trend", "purchase", "--breakdown", ""]), [
      "plan:property key",
      "revenue:property key",
    ]);
    assert.deepEqual(run(["evx", "events", "--from", ""]), ["FILES"]);
  });

  it("in fish: its own completion engine (complete --do-complete)", (t) => {
    if (spawnSync("fish", ["--version"]).status !== 0) return t.skip("fish is not installed");
    const run = (line: string) => {
      const r = spawnSync(
        "fish",
        ["--no-config", "-c", `source ${join(dir, "evx.fish")}; complete --do-complete "${line}"`],
        { encoding: "utf8", env, cwd: dir },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split("\n").filter(Boolean);
    };
    assert.deepEqual(run("evx tr"), ["trend\tcounts over time per event (EVENT or EVENT[KEY OP VALUE])"]);
    assert.deepEqual(run("evx trend "), [
      "app_opened\tevent",
      "button_clicked\tevent",
      "page viewed\tevent",
      "purchase\tevent",
    ]);
    assert.deepEqual(run("evx trend button_clicked --breakdown "), [
      "button_name\tproperty key",
      "screen\tproperty key",
    ]);
    assert.deepEqual(run("evx completion "), ["bash", "fish", "zsh"]);
  });
});
