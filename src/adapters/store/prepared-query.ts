import type { Compilable, CompiledQuery } from "kysely";

/**
 * A Kysely query compiled ONCE, with named parameters filled in per execution. Building and
 * compiling a query (builder objects, operation-node tree, visitor, freezing) costs more than
 * running one of the intake's small statements on SQLite, and the accept path runs the same
 * handful of shapes over and over; so the shape is built with Kysely's typed builder at store
 * construction (column names checked against `database-schema.ts`, the SQL compiled by the
 * store's own dialect), and each call only assembles a parameter array.
 *
 * How: `build` receives placeholder values (unique marker strings), and every compiled parameter
 * that is a marker becomes a slot filled from `values` by name; any other parameter (a literal
 * in the builder, e.g. `limit(1)`) stays as compiled.
 */
export interface PreparedQuery<P, R> {
  /** The compiled SQL, in the dialect of the Kysely instance it was built with. */
  readonly sql: string;
  /** The compiled query, for executing through Kysely with `bind`'s parameters. */
  readonly compiled: CompiledQuery<R>;
  /** The parameter array for one execution, in the order the SQL expects. */
  bind(values: P): unknown[];
}

const marker = "\u0000briefwright-parameter:";

export function prepareQuery<P extends object, R>(build: (values: P) => Compilable<R>): PreparedQuery<P, R> {
  const placeholders = new Proxy(
    {},
    { get: (_target, key) => (typeof key === "string" ? `${marker}${key}` : undefined) },
  ) as P;
  const compiled = build(placeholders).compile();
  type Slot = { readonly name: string } | { readonly name: undefined; readonly value: unknown };
  const slots: Slot[] = compiled.parameters.map((value) =>
    typeof value === "string" && value.startsWith(marker) ? { name: value.slice(marker.length) } : { name: undefined, value },
  );
  const names = slots.flatMap((slot) => (slot.name === undefined ? [] : [slot.name]));
  if (compiled.sql.includes(marker)) throw new Error(`prepareQuery: a placeholder was inlined into the SQL: ${compiled.sql}`);
  return {
    sql: compiled.sql,
    compiled,
    bind(values: P): unknown[] {
      const record = values as Record<string, unknown>;
      return slots.map((slot) => {
        if (slot.name === undefined) return slot.value;
        const value = record[slot.name];
        if (value === undefined) throw new Error(`prepareQuery: no value for parameter ${slot.name} (expects ${names.join(", ")})`);
        return value;
      });
    },
  };
}
