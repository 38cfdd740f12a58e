// JavaScriptCore's shell has no TextEncoder/TextDecoder (WebKit provides
// them in pages and webviews): a UTF-8 pair for the jsc test only.
if (typeof globalThis.TextEncoder === 'undefined') {
  globalThis.TextEncoder = class {
    get encoding() { return 'utf-8'; }
    encode(s = '') {
      const bin = unescape(encodeURIComponent(s));
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    encodeInto(s, dest) {
      const bytes = this.encode(s);
      const n = Math.min(bytes.length, dest.length);
      dest.set(bytes.subarray(0, n));
      return { read: s.length, written: n };
    }
  };
}
if (typeof globalThis.TextDecoder === 'undefined') {
  globalThis.TextDecoder = class {
    constructor() {}
    decode(bytes) {
      if (!bytes) return '';
      const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer ?? bytes);
      let bin = '';
      for (let i = 0; i < view.length; i += 0x8000) bin += String.fromCharCode.apply(null, view.subarray(i, i + 0x8000));
      return decodeURIComponent(escape(bin));
    }
  };
}
