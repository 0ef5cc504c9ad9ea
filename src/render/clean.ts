/**
 * Making untrusted data safe to print: `cleanText`, without the display-width machinery of
 * sanitize.ts (string-width and its ICU segmenter cost ~35 ms to load), so headless paths that only
 * clean text, such as `--json` warnings, start faster. sanitize.ts re-exports it.
 */

/**
 * Escape sequences, in the order tried:
 * - string controls (OSC `ESC ]`, DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _`, and the 8-bit
 *   OSC 0x9D) up to BEL or ST (`ESC \` or 0x9C). Other lone 8-bit introducers are just dropped
 *   with the C1 controls, rather than swallowing the data up to some later BEL;
 * - CSI (`ESC [` or 0x9B) parameters, intermediates and a final byte;
 * - any other `ESC` + intermediates + final byte (`ESC c`, `ESC ( B`, `ESC 7`).
 * An unterminated string control is left for the single-character pass below, which removes its
 * introducer, so what remains is inert text.
 */
const ESCAPES =
  /(?:\x1b[\]PX^_]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b[\x20-\x2f]*[\x30-\x7e]/g;
/** Line breaks and tabs: shown as one space so a cell stays on one line. */
const SPACING = /\r\n|[\t\n\v\f\r]/g;
/**
 * Left over after the passes above: C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates
 * (U+202A–U+202E, U+2066–U+2069) and the invisible bidi marks (U+200E, U+200F, U+061C).
 */
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/** Data text → a single line that cannot change the terminal's state or reorder what is around it. */
export function cleanText(s: string): string {
  return String(s).replace(ESCAPES, "").replace(SPACING, " ").replace(CONTROLS, "");
}
