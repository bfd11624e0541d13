/**
 * An entity's ref: its stable identity in this process and the member that stands for it in the
 * spawn, wake and index sets (`["type","id"]`, JSON, so any id round-trips).
 */
export function entityRef(type: string, id: string): string {
  return JSON.stringify([type, id]);
}

/** The type and id of a ref, or undefined when the string is not one. */
export function parseEntityRef(ref: string): [type: string, id: string] | undefined {
  try {
    const parsed: unknown = JSON.parse(ref);
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // not one of ours: the caller drops it
  }
  return undefined;
}
