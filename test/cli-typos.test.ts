/**
 * Issue #22, "typos must not answer zero": a mistyped command, flag, source, duration, comparison,
 * event or property key is one line on stderr and exit 2, with a suggestion where one is close.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evx } from "./helpers/cli.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const dir = tempDir();

/** Exit 2 and exactly one stderr line matching `re`; nothing on stdout. */
function usage(args: string[], re: RegExp): string {
  const r = evx(args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stdout, "", args.join(" "));
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0], re);
  return lines[0];
}

describe("mistyped commands and flags", () => {
  test("evx trnd suggests trend and never points at `evx trnd --help`", () => {
    const line = usage(["trnd"], /^evx: unknown command "trnd"; did you mean trend\? \(see `evx --help`\)$/);
    assert.doesNotMatch(line, /evx trnd --help/);
    usage(["retension", "x"], /unknown command "retension"; did you mean retention\?/);
    usage(
      ["clickhouse", "lod"],
      /^evx: unknown command "lod" for evx clickhouse; did you mean load\? \(see `evx clickhouse --help`\)$/,
    );
  });

  test("an unknown flag suggests the nearest flag of its command", () => {
    usage(
      ["trend", "x", "--brekdown", "plan"],
      /^evx: unknown flag --brekdown for evx trend; did you mean --breakdown\? \(see `evx trend --help`\)$/,
    );
    usage(
      ["funnel", "a", "b", "--within", "1h", "--hodl", "k"],
      /unknown flag --hodl for evx funnel; did you mean --hold\?/,
    );
    usage(["--cahce", "x.duckdb"], /^evx: unknown flag --cahce for evx; did you mean --cache\?/);
    // Nothing close: no suggestion, still one line and exit 2.
    usage(["events", "--xyzzy"], /^evx: unknown flag --xyzzy for evx events \(see `evx events --help`\)$/);
  });

  test("a mistyped argument's control characters never reach the terminal", () => {
    for (const args of [
      ["trnd\x1b[2J\x1b]0;pwn\x07"],
      ["trend", "x", "--brek\x1b[31mdown", "plan"],
      ["sync", "s3:/b\x9b31m/x"],
    ]) {
      const r = evx(args);
      assert.equal(r.code, 2, r.stderr);
      assert.doesNotMatch(r.stderr, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, JSON.stringify(r.stderr));
    }
  });
});

describe("mistyped S3 sources", () => {
  for (const [source, right] of [
    ["s3:/bucket/x", "s3://bucket/x"],
    ["s3:bucket/x", "s3://bucket/x"],
    ["S3:///bucket", "s3://bucket"],
    ["s3//bucket/x", "s3://bucket/x"],
    ["s3a://bucket/x", "s3://bucket/x"],
  ])
    test(`${source} is a usage error suggesting ${right}, not a local folder`, () => {
      const cache = join(dir, "none.duckdb");
      usage(
        ["sync", source, "--cache", cache],
        new RegExp(
          `^evx: bad source "${source.replace(/[/.]/g, "\\$&")}": not an S3 URL; did you mean "${right.replace(/[/.]/g, "\\$&")}"\\?$`,
        ),
      );
      usage(["doctor", source, "--cache", cache], /not an S3 URL; did you mean/);
    });

  test("s3:// without a bucket, and other schemes", () => {
    usage(
      ["sync", "s3://", "--cache", join(tempDir(), "c.duckdb")],
      /^evx: bad source "s3:\/\/": name the bucket/,
    );
    usage(
      ["sync", "gs://b/x", "--cache", join(tempDir(), "c.duckdb")],
      /^evx: unsupported source "gs:\/\/b\/x"/,
    );
  });
});

describe("analyses on a cache", () => {
  let cache = "";
  before(() => {
    const lake = join(dir, "lake");
    writeLakeFiles(lake, {
      "date=2023-06-01/part-0.jsonl": jsonl([
        ev("error", "2023-06-01T10:00:00Z", "u1", { message: "Disk full", code: 500 }),
        ev("error", "2023-06-01T11:00:00Z", "u2", { message: "Timeout", code: 504 }),
        ev("page", "2023-06-01T12:00:00Z", "u1", { path: "/a", plan: "pro" }),
      ]),
    });
    cache = join(dir, "c.duckdb");
    const r = evx(["sync", lake, "--cache", cache, "--json"]);
    assert.equal(r.code, 0, r.stderr);
  });

  test("a property key no event has is a usage error with suggestions, in every place a key is given", () => {
    const did = /; did you mean "message"/;
    for (const [args, where] of [
      [["trend", "error", "--where", "mesage=Disk full"], "--where"],
      [["trend", "error", "--breakdown", "mesage"], "--breakdown"],
      [["trend", "error[mesage~disk]"], 'the filter of "error"'],
      [["trend", "error", "--where", "mesage=Disk full", "--users-of", "2023-06-01"], "--where"],
      [["funnel", "error", "page", "--within", "1h", "--hold", "mesage"], "--hold"],
      [["funnel", "error", "page", "--within", "1h", "--value", "mesage"], "--value"],
      [["retention", "error", "page", "--where", "mesage set"], "--where"],
      [["paths", "--after", "error", "--where", "mesage=x"], "--where"],
      [["stickiness", "error", "--where", "mesage=x", "--json"], "--where"],
    ] as const) {
      const line = usage(
        [...args, "--cache", cache],
        new RegExp(`^evx: unknown property key "mesage" in ${where}: no event has it`),
      );
      assert.match(line, did, args.join(" "));
    }
  });

  test("a key of other events is answered, with one warning line on stderr for every output", () => {
    // `plan` is a page property: no error event has it.
    const warning = 'evx: warning: --breakdown "plan": no "error" event in the range has it\n';
    const human = evx(["trend", "error", "--breakdown", "plan", "--cache", cache]);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stderr, warning);
    assert.match(human.stdout, /error · \(none\)/);
    const json = evx(["trend", "error", "--breakdown", "plan", "--json", "--cache", cache]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stderr, warning);
    assert.deepEqual(
      JSON.parse(json.stdout).series.map((x: { breakdown: string; total: number }) => [x.breakdown, x.total]),
      [["(none)", 2]],
    );
    const csv = evx(["trend", "error", "--breakdown", "plan", "--csv", "--cache", cache]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stderr, warning);
    // A filter on a key the events have that matches nothing: zero, exit 0, no warning.
    const none = evx(["trend", "error", "--where", "message=Nope", "--json", "--cache", cache]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stderr, "");
    assert.equal(JSON.parse(none.stdout).series[0].total, 0);
  });

  test("--last 2 is a usage error naming the units", () => {
    usage(
      ["trend", "error", "--last", "2", "--cache", cache],
      /^evx: bad --last "2": give a unit: s, m \(minutes\), h, d or w, e\.g\. 2h or 2d$/,
    );
  });

  test("code>abc is a usage error naming the operator and the value", () => {
    usage(
      ["trend", "error", "--where", "code>abc", "--cache", cache],
      /^evx: bad filter "code>abc": > compares numbers, and "abc" is not a number/,
    );
    usage(["trend", "error[code<=x]", "--cache", cache], /<= compares numbers, and "x" is not a number/);
    const ok = evx(["trend", "error", "--where", "code>501", "--cache", cache, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).series[0].total, 1);
  });
});
