/** A ClickHouse identifier in backquotes (a table or database name evx did not choose). */
export const quoteIdent = (s: string): string => `\`${s.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;

/** A ClickHouse string literal, for the text evx writes into DDL and load SQL (user values are bound). */
export const quoteString = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
