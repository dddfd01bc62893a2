/**
 * One error type for the whole application. Each code has an HTTP status and a message for
 * people in English and Hindi; `details` carries per-field or per-row problems. Codes are part
 * of the API: clients key on them, never on the message text.
 */

export interface Text {
  en: string;
  hi: string;
}

export const errorCatalog = {
  VALIDATION_FAILED: { status: 400, en: 'Some values are not valid.', hi: 'कुछ मान मान्य नहीं हैं।' },
  BAD_REQUEST: { status: 400, en: 'The request is not valid.', hi: 'अनुरोध मान्य नहीं है।' },
  UNAUTHENTICATED: { status: 401, en: 'Please log in.', hi: 'कृपया लॉग इन करें।' },
  FORBIDDEN: { status: 403, en: 'You are not allowed to do this.', hi: 'आपको यह करने की अनुमति नहीं है।' },
  NOT_FOUND: { status: 404, en: 'Not found.', hi: 'नहीं मिला।' },
  CONFLICT: { status: 409, en: 'This conflicts with the current state.', hi: 'यह वर्तमान स्थिति से मेल नहीं खाता।' },
  PAYLOAD_TOO_LARGE: { status: 413, en: 'The upload is too large.', hi: 'अपलोड बहुत बड़ा है।' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, en: 'This content type is not supported.', hi: 'यह सामग्री प्रकार समर्थित नहीं है।' },
  RATE_LIMITED: { status: 429, en: 'Too many attempts. Please wait and try again.', hi: 'बहुत अधिक प्रयास। कृपया प्रतीक्षा करके फिर प्रयास करें।' },
  IMPORT_REJECTED: { status: 422, en: 'The file was not imported: some rows have errors. Nothing was changed.', hi: 'फ़ाइल आयात नहीं हुई: कुछ पंक्तियों में त्रुटियाँ हैं। कुछ भी नहीं बदला गया।' },
  BILLING_SYSTEM_UNAVAILABLE: { status: 503, en: 'The billing system is not reachable. Please try again later.', hi: 'बिलिंग प्रणाली उपलब्ध नहीं है। कृपया बाद में प्रयास करें।' },
  NOT_READY: { status: 503, en: 'The service is not ready.', hi: 'सेवा अभी तैयार नहीं है।' },
  INTERNAL: { status: 500, en: 'Something went wrong on our side. Please try again; if it persists, quote the request id.', hi: 'हमारी ओर से कुछ गड़बड़ हुई। कृपया फिर प्रयास करें; समस्या बनी रहे तो अनुरोध आईडी बताएँ।' },
} as const satisfies Record<string, { status: number } & Text>;

export type ErrorCode = keyof typeof errorCatalog;

export interface ErrorDetail {
  /** A field path (`body.pan`) or a row (`row 12`). */
  path: string;
  /** A stable code for the problem (`required`, `pattern`, `not_found` …). */
  problem: string;
  message: Text;
}

export class AppError extends Error {
  readonly status: number;
  readonly text: Text;
  constructor(
    readonly code: ErrorCode,
    readonly details: ErrorDetail[] = [],
    text?: Text,
  ) {
    const { en, hi } = text ?? errorCatalog[code];
    super(en);
    this.text = { en, hi };
    this.name = 'AppError';
    this.status = errorCatalog[code].status;
  }
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: Text;
    details: ErrorDetail[];
    requestId: string;
  };
}

export function errorBody(err: AppError, requestId: string): ErrorBody {
  return { error: { code: err.code, message: err.text, details: err.details, requestId } };
}
