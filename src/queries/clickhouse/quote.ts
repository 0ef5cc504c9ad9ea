/** A ClickHouse identifier in backquotes (a table or database name evx did not choose). */
export const quoteIdent = (s: string): string => `\`${s.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;
