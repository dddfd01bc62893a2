import type { FastifySchemaValidationError } from 'fastify';
import type { ErrorDetail, Text } from '../errors.ts';

/**
 * Turns schema-validation failures (Ajv) into per-field problems with English and Hindi
 * messages. Every failing field is listed, not just the first.
 */

const typeHi: Record<string, string> = {
  string: 'पाठ',
  integer: 'पूर्ण संख्या',
  number: 'संख्या',
  boolean: 'सही/गलत',
  object: 'वस्तु',
  array: 'सूची',
  null: 'खाली',
};

function message(e: FastifySchemaValidationError): Text {
  const p = e.params;
  switch (e.keyword) {
    case 'required':
      return { en: 'is required', hi: 'आवश्यक है' };
    case 'type':
      return { en: `must be ${String(p.type)}`, hi: `${typeHi[String(p.type)] ?? String(p.type)} होना चाहिए` };
    case 'minLength':
      if (Number(p.limit) === 1) return { en: 'is required', hi: 'आवश्यक है' };
      return { en: `must be at least ${String(p.limit)} characters`, hi: `कम से कम ${String(p.limit)} अक्षर होने चाहिए` };
    case 'maxLength':
      return { en: `must be at most ${String(p.limit)} characters`, hi: `अधिकतम ${String(p.limit)} अक्षर हो सकते हैं` };
    case 'pattern':
      return { en: 'is not in the expected format', hi: 'अपेक्षित प्रारूप में नहीं है' };
    case 'format':
      return { en: `must be a valid ${String(p.format)}`, hi: `मान्य ${String(p.format)} होना चाहिए` };
    case 'minimum':
      return { en: `must be ${String(p.limit)} or more`, hi: `${String(p.limit)} या अधिक होना चाहिए` };
    case 'maximum':
      return { en: `must be ${String(p.limit)} or less`, hi: `${String(p.limit)} या कम होना चाहिए` };
    case 'enum': {
      const vals = (p.allowedValues as unknown[]).map(String).join(', ');
      return { en: `must be one of: ${vals}`, hi: `इनमें से एक होना चाहिए: ${vals}` };
    }
    case 'additionalProperties':
      return { en: 'is not an allowed field', hi: 'अनुमत फ़ील्ड नहीं है' };
    case 'minItems':
      return { en: `must have at least ${String(p.limit)} items`, hi: `कम से कम ${String(p.limit)} प्रविष्टियाँ होनी चाहिए` };
    case 'maxItems':
      return { en: `must have at most ${String(p.limit)} items`, hi: `अधिकतम ${String(p.limit)} प्रविष्टियाँ हो सकती हैं` };
    default:
      return { en: e.message ?? 'is not valid', hi: 'मान्य नहीं है' };
  }
}

export function validationDetails(errors: FastifySchemaValidationError[], context: string): ErrorDetail[] {
  return errors.map((e) => {
    const p = e.params;
    let path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (e.keyword === 'required') path = [path, String(p.missingProperty)].filter(Boolean).join('.');
    if (e.keyword === 'additionalProperties') path = [path, String(p.additionalProperty)].filter(Boolean).join('.');
    return { path: [context, path].filter(Boolean).join('.'), problem: e.keyword, message: message(e) };
  });
}

/**
 * Numbers no column can hold that schema validation let through. Ajv turns the text "1e400" of
 * an integer or number field into Infinity and then skips that field's minimum and maximum (it
 * checks them on finite numbers only), so the handler would get Infinity. Nothing else gives a
 * non-finite number: JSON has none that pass a numeric schema. Run after validation, on input
 * already bounded in depth.
 */
export function nonFiniteNumbers(input: Record<string, unknown>): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const stack = Object.entries(input).map(([path, v]): [unknown, string] => [v, path]);
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      out.push({ path, problem: 'range', message: { en: 'is not a number within range', hi: 'सीमा के भीतर की संख्या नहीं है' } });
    } else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, x] of Array.isArray(v) ? v.entries() : Object.entries(v)) stack.push([x, `${path}.${k}`]);
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
