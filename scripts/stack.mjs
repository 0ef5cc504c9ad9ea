// Maps a stack trace from a user's report back to src/ files: `node scripts/stack.mjs < trace.txt`.
//
// Frames name dist/cli.js or dist/chunks/NAME-HASH.js; a chunk's name changes with its content, so a
// frame is mapped only when this checkout's dist/ has that very file (build the commit that the
// report's `evx --version` names: git checkout COMMIT && npm run build). Frames of other builds are
// left as they are, and said so. (`EVX_DEBUG=1 evx …` prints mapped traces directly.)
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const maps = new Map();

function mapFor(file) {
  if (!maps.has(file)) {
    const path = join(dist, `${file}.map`);
    maps.set(file, existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, "utf8"))) : null);
  }
  return maps.get(file);
}

const text = readFileSync(0, "utf8");
let unknown = 0;
const out = text.replace(
  /(?:file:\/\/)?[^\s()]*?dist\/((?:chunks\/)?[\w.-]+\.js):(\d+):(\d+)/g,
  (frame, file, line, col) => {
    const map = mapFor(file);
    if (!map) {
      unknown++;
      return frame;
    }
    const e = map.findEntry(Number(line) - 1, Number(col) - 1);
    if (!e || e.originalSource === undefined) return frame;
    const src = relative(root, resolve(dist, file, "..", e.originalSource));
    return `${src}:${e.originalLine + 1}:${e.originalColumn + 1}`;
  },
);
process.stdout.write(out);
if (unknown)
  process.stderr.write(
    `${unknown} frame(s) name chunks this dist/ does not have: build the commit the report's evx --version names\n`,
  );
