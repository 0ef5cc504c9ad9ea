/**
 * The engine against the hand-worked golden cases (test/golden.ts): each case's lines are written into
 * a lake, synced into a fresh cache, and the analysis must give exactly the expected answer (floats
 * within a relative 1e-9) and state the resolved range (the brute force's, and the hand-worked one
 * where the case has it). `--last` cases take their range from the engine's `lastRange` over the
 * cache's latest event.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DateRange } from "../../src/queries/spec.js";
import { lastRange } from "../../src/queries/time.js";
import { bruteLastRange, bruteRange } from "../brute.js";
import { caseSpec, goldenCases, goldenEvents, goldenLakeFiles } from "../golden.js";
import { assertClose, cacheFromFiles, withoutPartialMarks } from "./helpers.js";

describe("golden cases through the engine", { concurrency: 4 }, () => {
  for (const c of goldenCases) {
    test(c.name, async () => {
      const tc = await cacheFromFiles(goldenLakeFiles(c.events));
      try {
        const lastUs = c.last === undefined ? null : await tc.ex.lastEventUs();
        const spec = caseSpec(c, (seconds, tz) => {
          assert.ok(lastUs !== null, "lastEventUs() of a non-empty cache");
          return lastRange(lastUs, seconds, tz);
        });
        const out = await tc.ex.run(spec);
        assertClose(withoutPartialMarks(out.result), c.expected);
        const events = goldenEvents(c.events);
        const bruteSpec = caseSpec(c, (seconds, tz) => bruteLastRange(events, seconds, tz));
        const range = (bruteSpec as { range: DateRange }).range;
        assert.deepStrictEqual(out.range, bruteRange(range), "resolved range");
        if (c.resolved !== undefined) assert.deepStrictEqual(out.range, { ...c.resolved, tz: range.tz });
      } finally {
        tc.close();
      }
    });
  }
});
