/**
 * JSON.parse keeps the last of two equal keys in one object; IAM's own parser may not. A policy text with a
 * key twice in one object cannot be shown to mean what the parsed copy says.
 */

interface OpenContainer {
  readonly keys?: Set<string>;
  expectKey: boolean;
}

/** The first key that appears twice in one object of valid JSON text, in one pass; undefined when none. */
export function duplicateJsonKey(text: string): string | undefined {
  const open: OpenContainer[] = [];
  let position = 0;
  while (position < text.length) {
    const character = text[position];
    if (character === '"') {
      const end = endOfString(text, position);
      const top = open[open.length - 1];
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(position, end + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      position = end + 1;
      continue;
    }
    if (character === '{') open.push({ keys: new Set(), expectKey: true });
    else if (character === '[') open.push({ expectKey: false });
    else if (character === '}' || character === ']') open.pop();
    else if (character === ',') {
      const top = open[open.length - 1];
      if (top?.keys !== undefined) top.expectKey = true;
    }
    position += 1;
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start`. */
function endOfString(text: string, start: number): number {
  let position = start + 1;
  while (position < text.length) {
    const character = text[position];
    if (character === '\\') position += 2;
    else if (character === '"') return position;
    else position += 1;
  }
  return text.length - 1;
}
