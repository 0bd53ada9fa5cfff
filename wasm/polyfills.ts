// Globals the bundled CEL libraries expect but QuickJS lacks, evaluated in the
// sandbox before the library:
// - TextEncoder/TextDecoder: UTF-8 only (all CEL strings and bytes need), in
//   plain JS.
// - Intl.DateTimeFormat, only the formatToParts(date) with a timeZone that
//   CEL's timestamp accessors use (getHours('Europe/Paris')). QuickJS has no
//   time-zone database, so the parts come from the ONE host function the
//   sandbox gets, `__swampZoneParts(zone, epochMs)`: a pure computation over
//   two validated values (see zone_parts.ts), captured here and removed from
//   the global object before any expression runs.
// - Intl.NumberFormat, only fixed fraction digits (the strings extension's
//   "%.2f" format); rounding is toFixed's, not half-even.

/** Name of the host function the polyfill captures and deletes. */
export const ZONE_PARTS_FUNCTION = "__swampZoneParts";

export const polyfillSource = `
(() => {
  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(text = "") {
      const out = [];
      for (const ch of String(text)) {
        let c = ch.codePointAt(0);
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
  }
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      if (!/^utf-?8$/i.test(label)) throw new RangeError("only utf-8 is supported");
      this.fatal = !!options.fatal;
    }
    get encoding() { return "utf-8"; }
    decode(input) {
      if (input === undefined) return "";
      const b = input instanceof Uint8Array ? input
        : ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
        : new Uint8Array(input);
      let out = "";
      for (let i = 0; i < b.length;) {
        const x = b[i];
        const need = x < 0x80 ? 0 : x >= 0xc2 && x < 0xe0 ? 1 : x >= 0xe0 && x < 0xf0 ? 2 : x >= 0xf0 && x < 0xf5 ? 3 : -1;
        let c = need === 0 ? x : need === 1 ? x & 31 : need === 2 ? x & 15 : x & 7;
        let ok = need >= 0;
        for (let k = 1; ok && k <= need; k++) {
          const y = b[i + k];
          if (y === undefined || (y & 0xc0) !== 0x80) ok = false;
          else c = (c << 6) | (y & 63);
        }
        if (ok && need > 0) {
          const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
          if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) ok = false;
        }
        if (!ok) {
          if (this.fatal) throw new TypeError("The encoded data was not valid UTF-8");
          out += "\\ufffd";
          i += 1;
          continue;
        }
        out += String.fromCodePoint(c);
        i += need + 1;
      }
      return out;
    }
  }
  globalThis.TextEncoder = TextEncoder;
  globalThis.TextDecoder = TextDecoder;

  const zoneParts = globalThis.__swampZoneParts;
  delete globalThis.__swampZoneParts;
  const parts = (zone, ms) => {
    const text = zoneParts(String(zone), Number(ms));
    if (text === "") throw new RangeError("Invalid time zone specified: " + zone);
    return text.split(",");
  };
  class DateTimeFormat {
    constructor(locale, options = {}) {
      this.timeZone = options.timeZone === undefined ? "UTC" : String(options.timeZone);
      parts(this.timeZone, 0); // validates the zone, like the real constructor
    }
    formatToParts(date) {
      const [year, month, day, hour, minute, second] = parts(this.timeZone, +date);
      return [
        { type: "month", value: month }, { type: "literal", value: "/" },
        { type: "day", value: day }, { type: "literal", value: "/" },
        { type: "year", value: year }, { type: "literal", value: ", " },
        { type: "hour", value: hour }, { type: "literal", value: ":" },
        { type: "minute", value: minute }, { type: "literal", value: ":" },
        { type: "second", value: second },
      ];
    }
  }
  class NumberFormat {
    constructor(locale, options = {}) {
      this.digits = options.maximumFractionDigits ?? 3;
    }
    format(value) {
      return Number(value).toFixed(this.digits);
    }
  }
  globalThis.Intl = { DateTimeFormat, NumberFormat };
})();
`;
