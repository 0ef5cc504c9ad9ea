/**
 * Stickiness, lifecycle and paths against hand-worked answers (test/golden-insights.ts): the brute
 * force, and the engine on a cache synced from the case's lines.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AnalysisSpec } from "../../src/queries/spec.js";
import { type BruteEvent, bruteRange } from "../brute.js";
import { bruteLifecycle, brutePaths, bruteStickiness } from "../brute-insights.js";
import { goldenEvents, goldenLakeFiles } from "../golden.js";
import { insightCases } from "../golden-insights.js";
import { assertClose, cacheFromFiles, withoutPartialMarks } from "./helpers.js";

function brute(events: BruteEvent[], spec: AnalysisSpec): unknown {
  switch (spec.kind) {
    case "stickiness":
      return bruteStickiness(events, spec);
    case "lifecycle":
      return bruteLifecycle(events, spec);
    case "paths":
      return brutePaths(events, spec);
    default:
      throw new Error(`no brute force for ${spec.kind}`);
  }
}

describe("issue #15 golden cases: brute force", () => {
  for (const c of insightCases)
    test(c.name, () => assert.deepStrictEqual(brute(goldenEvents(c.events), c.spec), c.expected));
});

describe("issue #15 golden cases through the engine", { concurrency: 4 }, () => {
  for (const c of insightCases) {
    test(c.name, async () => {
      const tc = await cacheFromFiles(goldenLakeFiles(c.events));
      try {
        const out = await tc.ex.run(c.spec);
        assertClose(withoutPartialMarks(out.result), c.expected);
        assert.deepStrictEqual(out.range, bruteRange(c.spec.range), "resolved range");
      } finally {
        tc.close();
      }
    });
  }
});
