/**
 * Terminal size in React state. Ink re-lays out on resize but does not re-render React, so widgets
 * whose strings depend on the width (charts, grids) must read the size from here, not from
 * `process.stdout.columns`.
 */
import { useStdout } from "ink";
import { createContext, useContext, useEffect, useState } from "react";

export interface TerminalSize {
  columns: number;
  rows: number;
}

export const FALLBACK_SIZE: TerminalSize = { columns: 80, rows: 24 };

/** Overrides the measured size for everything below it (tests, fixed-size previews). */
export const TerminalSizeContext = createContext<TerminalSize | null>(null);

interface SizedStream {
  columns?: number;
  rows?: number;
  on?: (event: "resize", listener: () => void) => unknown;
  off?: (event: "resize", listener: () => void) => unknown;
}

/** The size of a stream, each dimension falling back to 80×24 when missing or zero. */
export function measure(stream: SizedStream | undefined): TerminalSize {
  const columns = stream?.columns;
  const rows = stream?.rows;
  return {
    columns: typeof columns === "number" && columns > 0 ? Math.floor(columns) : FALLBACK_SIZE.columns,
    rows: typeof rows === "number" && rows > 0 ? Math.floor(rows) : FALLBACK_SIZE.rows,
  };
}

/** `{columns, rows}` of Ink's stdout, updated on `resize`; a `TerminalSizeContext` value wins. */
export function useTerminalSize(): TerminalSize {
  const injected = useContext(TerminalSizeContext);
  const { stdout } = useStdout();
  const stream = stdout as unknown as SizedStream | undefined;
  const [size, setSize] = useState<TerminalSize>(() => measure(stream));
  useEffect(() => {
    if (injected || !stream?.on) return;
    const update = () =>
      setSize((prev) => {
        const next = measure(stream);
        return prev.columns === next.columns && prev.rows === next.rows ? prev : next;
      });
    update();
    stream.on("resize", update);
    return () => {
      stream.off?.("resize", update);
    };
  }, [injected, stream]);
  return injected ?? size;
}
