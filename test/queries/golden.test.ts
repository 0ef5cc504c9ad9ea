/**
 * The engine against the hand-worked golden cases (test/golden.ts): each case's lines are written into
 * a lake, synced into a fresh cache, and the analysis must give exactly the expected answer (floats
 * within a relative 1e-9).
 */
import { describe, test } from "node:test";
import { goldenCases, goldenLakeFiles } from "../golden.js";
import { assertClose, cacheFromFiles } from "./helpers.js";

describe("golden cases through the engine", { concurrency: 4 }, () => {
  for (const c of goldenCases) {
    test(c.name, async () => {
      const tc = await cacheFromFiles(goldenLakeFiles(c.events));
      try {
        const out = await tc.ex.run(c.spec);
        assertClose(out.result, c.expected);
      } finally {
        tc.close();
      }
    });
  }
});
