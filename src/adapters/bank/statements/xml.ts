/**
 * A small non-validating XML reader, enough for ISO 20022 messages: elements, attributes, text,
 * CDATA, comments, processing instructions, and the predefined and numeric entities. Names are
 * kept by local name (namespace prefixes dropped; camt files use one default namespace). A
 * DOCTYPE with an internal subset is refused rather than expanded (no entity bombs, no external
 * entities). One pass with an explicit stack: no recursion, no backtracking.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
  /** Offset of the start tag in the source, for messages. */
  pos: number;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

export function lineAt(src: string, pos: number): number {
  let line = 1;
  for (let i = src.indexOf('\n'); i >= 0 && i < pos; i = src.indexOf('\n', i + 1)) line++;
  return line;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string, at: number): string {
  if (!s.includes('&')) return s;
  let out = '';
  let i = 0;
  for (let amp = s.indexOf('&'); amp >= 0; amp = s.indexOf('&', i)) {
    out += s.slice(i, amp);
    const semi = s.indexOf(';', amp);
    if (semi < 0 || semi - amp > 12) throw new XmlError(`an unterminated entity reference '&'`, at);
    const ref = s.slice(amp + 1, semi);
    let ch: string | undefined;
    if (ref.startsWith('#x') || ref.startsWith('#X')) {
      const cp = /^[0-9a-fA-F]+$/.test(ref.slice(2)) ? parseInt(ref.slice(2), 16) : NaN;
      ch = Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
    } else if (ref.startsWith('#')) {
      const cp = /^\d+$/.test(ref.slice(1)) ? parseInt(ref.slice(1), 10) : NaN;
      ch = Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
    } else ch = NAMED[ref];
    if (ch === undefined) throw new XmlError(`unknown entity &${ref};`, at);
    out += ch;
    i = semi + 1;
  }
  return out + s.slice(i);
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const localName = (q: string) => {
  const colon = q.indexOf(':');
  return colon < 0 ? q : q.slice(colon + 1);
};

export function parseXml(src: string): XmlElement {
  const stack: { el: XmlElement; qname: string }[] = [];
  let root: XmlElement | null = null;
  let i = 0;
  const n = src.length;
  if (src.charCodeAt(0) === 0xfeff) i = 1;

  const expectEnd = (from: number, token: string, what: string) => {
    const at = src.indexOf(token, from);
    if (at < 0) throw new XmlError(`unterminated ${what}`, from);
    return at + token.length;
  };

  while (i < n) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      // Indentation between elements is not kept: camt has no mixed content.
      if (raw.trim() !== '') {
        const top = stack[stack.length - 1];
        if (!top) throw new XmlError('text outside the root element', i);
        top.el.text += decodeEntities(raw, i);
      }
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('<?', i)) {
      i = expectEnd(i + 2, '?>', 'processing instruction');
    } else if (src.startsWith('<!--', i)) {
      i = expectEnd(i + 4, '-->', 'comment');
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i + 9);
      if (end < 0) throw new XmlError('unterminated CDATA section', i);
      const top = stack[stack.length - 1];
      if (!top) throw new XmlError('CDATA outside the root element', i);
      top.el.text += src.slice(i + 9, end);
      i = end + 3;
    } else if (src.startsWith('<!', i)) {
      const end = src.indexOf('>', i);
      if (end < 0) throw new XmlError('unterminated declaration', i);
      if (src.slice(i, end).includes('[')) throw new XmlError('a DOCTYPE with an internal subset is not accepted', i);
      i = end + 1;
    } else if (src.startsWith('</', i)) {
      const end = src.indexOf('>', i);
      if (end < 0) throw new XmlError('unterminated end tag', i);
      const qname = src.slice(i + 2, end).trim();
      const top = stack.pop();
      if (!top) throw new XmlError(`end tag </${qname}> without a start tag`, i);
      if (top.qname !== qname) throw new XmlError(`end tag </${qname}> does not close <${top.qname}>`, i);
      i = end + 1;
    } else {
      const start = i;
      i++;
      const nameStart = i;
      while (i < n) {
        const c = src.charCodeAt(i);
        if (isSpace(c) || c === 47 /* / */ || c === 62 /* > */) break;
        i++;
      }
      const qname = src.slice(nameStart, i);
      if (!qname || qname.includes('<')) throw new XmlError('a tag without a name', start);
      const el: XmlElement = { name: localName(qname), attrs: {}, children: [], text: '', pos: start };
      let selfClosing = false;
      for (;;) {
        while (i < n && isSpace(src.charCodeAt(i))) i++;
        if (i >= n) throw new XmlError(`unterminated start tag <${qname}>`, start);
        const c = src[i];
        if (c === '>') {
          i++;
          break;
        }
        if (c === '/') {
          if (src[i + 1] !== '>') throw new XmlError(`'/' not followed by '>' in <${qname}>`, i);
          selfClosing = true;
          i += 2;
          break;
        }
        const an = i;
        while (i < n && !isSpace(src.charCodeAt(i)) && src[i] !== '=' && src[i] !== '>' && src[i] !== '/') i++;
        const aname = src.slice(an, i);
        while (i < n && isSpace(src.charCodeAt(i))) i++;
        if (!aname || src[i] !== '=') throw new XmlError(`malformed attribute in <${qname}>`, i);
        i++;
        while (i < n && isSpace(src.charCodeAt(i))) i++;
        const q = src[i];
        if (q !== '"' && q !== "'") throw new XmlError(`attribute ${aname} of <${qname}> is not quoted`, i);
        const vEnd = src.indexOf(q, i + 1);
        if (vEnd < 0) throw new XmlError(`unterminated attribute ${aname} of <${qname}>`, i);
        const raw = src.slice(i + 1, vEnd);
        if (raw.includes('<')) throw new XmlError(`'<' in attribute ${aname} of <${qname}>`, i);
        el.attrs[localName(aname)] = decodeEntities(raw, i);
        i = vEnd + 1;
      }
      const parent = stack[stack.length - 1];
      if (parent) parent.el.children.push(el);
      else if (root) throw new XmlError('a second root element', start);
      else root = el;
      if (!selfClosing) stack.push({ el, qname });
    }
  }
  if (stack.length > 0) throw new XmlError(`the document ends inside <${stack[stack.length - 1]!.qname}>`, n);
  if (!root) throw new XmlError('no root element', 0);
  return root;
}

export function child(el: XmlElement | null | undefined, name: string): XmlElement | null {
  if (!el) return null;
  for (const c of el.children) if (c.name === name) return c;
  return null;
}

export function childrenNamed(el: XmlElement | null | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** The element at a slash-separated path of local names, first match at each step. */
export function at(el: XmlElement | null | undefined, path: string): XmlElement | null {
  let cur: XmlElement | null = el ?? null;
  for (const part of path.split('/')) {
    cur = child(cur, part);
    if (!cur) return null;
  }
  return cur;
}

/** Trimmed text at a path, or null when absent or empty. */
export function textAt(el: XmlElement | null | undefined, path: string): string | null {
  const t = at(el, path)?.text.trim();
  return t ? t : null;
}
