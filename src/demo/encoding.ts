// Windows-1252, the encoding of most Brazilian Windows exports. Node has no encoder for it (TextDecoder only
// decodes), and the project carries no iconv, so it is written here: Latin-1 plus the 0x80–0x9F specials.

/** The characters cp1252 puts in 0x80–0x9F, where Latin-1 has C1 control codes. */
const SPECIALS: ReadonlyMap<number, number> = new Map([
  [0x20ac, 0x80], // €
  [0x201a, 0x82], // ‚
  [0x0192, 0x83], // ƒ
  [0x201e, 0x84], // „
  [0x2026, 0x85], // …
  [0x2020, 0x86], // †
  [0x2021, 0x87], // ‡
  [0x02c6, 0x88], // ˆ
  [0x2030, 0x89], // ‰
  [0x0160, 0x8a], // Š
  [0x2039, 0x8b], // ‹
  [0x0152, 0x8c], // Œ
  [0x017d, 0x8e], // Ž
  [0x2018, 0x91], // ‘
  [0x2019, 0x92], // ’
  [0x201c, 0x93], // “
  [0x201d, 0x94], // ”
  [0x2022, 0x95], // •
  [0x2013, 0x96], // –
  [0x2014, 0x97], // —
  [0x02dc, 0x98], // ˜
  [0x2122, 0x99], // ™
  [0x0161, 0x9a], // š
  [0x203a, 0x9b], // ›
  [0x0153, 0x9c], // œ
  [0x017e, 0x9e], // ž
  [0x0178, 0x9f], // Ÿ
]);

/** Throws on a character cp1252 cannot represent, rather than writing a `?` that would silently corrupt the data. */
export function encodeWindows1252(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80 || (c >= 0xa0 && c <= 0xff)) {
      out[i] = c;
      continue;
    }
    const b = SPECIALS.get(c);
    if (b === undefined) {
      const cp = text.codePointAt(i)!;
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      throw new RangeError(
        `character ${JSON.stringify(String.fromCodePoint(cp))} (U+${hex}) at offset ${i} cannot be encoded in Windows-1252`,
      );
    }
    out[i] = b;
  }
  return out;
}
