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
  INVALID_CREDENTIALS: { status: 401, en: 'The login ID or password is wrong, or the organisation’s registration still waits for the discom’s approval.', hi: 'लॉगिन आईडी या पासवर्ड गलत है, या संस्था का पंजीकरण अभी डिस्कॉम की स्वीकृति की प्रतीक्षा में है।' },
  SESSION_EXPIRED: { status: 401, en: 'Your session has ended. Please log in again.', hi: 'आपका सत्र समाप्त हो गया है। कृपया फिर से लॉग इन करें।' },
  SECOND_FACTOR_REQUIRED: { status: 403, en: 'Enter the code from your authenticator app first.', hi: 'पहले अपने ऑथेंटिकेटर ऐप का कोड दर्ज करें।' },
  ACCOUNT_DISABLED: { status: 403, en: 'This account is disabled. Ask your organisation’s administrator.', hi: 'यह खाता निष्क्रिय है। अपनी संस्था के व्यवस्थापक से संपर्क करें।' },
  ORGANISATION_PENDING: { status: 403, en: 'Your organisation’s registration is awaiting the discom’s approval.', hi: 'आपकी संस्था का पंजीकरण डिस्कॉम की स्वीकृति की प्रतीक्षा में है।' },
  ORGANISATION_REJECTED: { status: 403, en: 'Your organisation’s registration was rejected by the discom.', hi: 'डिस्कॉम ने आपकी संस्था का पंजीकरण अस्वीकार कर दिया है।' },
  CSRF_FAILED: { status: 403, en: 'This page has expired. Reload it and try again.', hi: 'यह पृष्ठ पुराना हो गया है। इसे फिर से लोड करके प्रयास करें।' },
  TAG_CONFLICT: { status: 409, en: 'This connection is tagged to another organisation. You can ask the discom for a transfer.', hi: 'यह कनेक्शन किसी अन्य संस्था से टैग है। आप डिस्कॉम से स्थानांतरण का अनुरोध कर सकते हैं।' },
  PROOF_MISMATCH: { status: 400, en: 'The proof does not match this connection’s latest bill or code.', hi: 'प्रमाण इस कनेक्शन के नवीनतम बिल या कोड से मेल नहीं खाता।' },
  INVALID_CODE: { status: 400, en: 'The code is wrong or has expired.', hi: 'कोड गलत है या उसकी अवधि समाप्त हो गई है।' },
  CODE_ALREADY_USED: { status: 400, en: 'This code was already used. Wait for the next one in your authenticator app.', hi: 'यह कोड पहले ही इस्तेमाल हो चुका है। अपने ऑथेंटिकेटर ऐप में अगले कोड की प्रतीक्षा करें।' },
  ACCOUNT_LOCKED: { status: 429, en: 'Too many failed attempts. Please wait and try again.', hi: 'बहुत अधिक असफल प्रयास। कृपया प्रतीक्षा करके फिर प्रयास करें।' },
  CONFLICT: { status: 409, en: 'This conflicts with the current state.', hi: 'यह वर्तमान स्थिति से मेल नहीं खाता।' },
  PAYLOAD_TOO_LARGE: { status: 413, en: 'The upload is too large.', hi: 'अपलोड बहुत बड़ा है।' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, en: 'This content type is not supported.', hi: 'यह सामग्री प्रकार समर्थित नहीं है।' },
  RATE_LIMITED: { status: 429, en: 'Too many attempts. Please wait and try again.', hi: 'बहुत अधिक प्रयास। कृपया प्रतीक्षा करके फिर प्रयास करें।' },
  IMPORT_REJECTED: { status: 422, en: 'The file was not imported: some rows have errors. Nothing was changed.', hi: 'फ़ाइल आयात नहीं हुई: कुछ पंक्तियों में त्रुटियाँ हैं। कुछ भी नहीं बदला गया।' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, en: 'This Idempotency-Key was already used for a different request.', hi: 'यह Idempotency-Key किसी दूसरे अनुरोध के लिए पहले ही उपयोग हो चुकी है।' },
  BILL_IN_OPEN_BATCH: { status: 409, en: 'Some bills are already in another open payment. Finish or cancel that payment first.', hi: 'कुछ बिल पहले से किसी अन्य खुले भुगतान में हैं। पहले वह भुगतान पूरा या रद्द करें।' },
  BATCH_NOT_OPEN: { status: 409, en: 'This payment can no longer be changed in this way.', hi: 'इस भुगतान को अब इस तरह बदला नहीं जा सकता।' },
  MAKER_CANNOT_APPROVE: { status: 403, en: 'The person who made a payment cannot approve it. Another approver must.', hi: 'भुगतान बनाने वाला उसे स्वीकृत नहीं कर सकता। किसी अन्य अनुमोदक को करना होगा।' },
  APPROVAL_REQUIRED: { status: 409, en: 'This payment needs an approver’s approval before it can be paid.', hi: 'भुगतान से पहले इसे अनुमोदक की स्वीकृति चाहिए।' },
  CONNECTION_IN_OPEN_PAYMENT: { status: 409, en: 'This connection is in an open payment. Finish or cancel that payment first.', hi: 'यह कनेक्शन एक खुले भुगतान में है। पहले वह भुगतान पूरा या रद्द करें।' },
  CHALLAN_MIXED_DISCOMS: { status: 409, en: 'An RTGS/NEFT challan pays one discom’s account, and this payment has bills of more than one discom. Make one payment per discom.', hi: 'RTGS/NEFT चालान एक डिस्कॉम के खाते में भुगतान करता है, और इस भुगतान में एक से अधिक डिस्कॉम के बिल हैं। प्रत्येक डिस्कॉम के लिए अलग भुगतान बनाएँ।' },
  CHALLAN_REBATE_LAPSED: { status: 409, en: 'This payment’s amounts include on-time rebates whose due date has passed. Cancel it and create the payment again for today’s amounts.', hi: 'इस भुगतान की राशियों में समय पर भुगतान की छूट शामिल है जिसकी नियत तिथि बीत चुकी है। इसे रद्द करें और आज की राशियों के लिए भुगतान फिर से बनाएँ।' },
  COLLECTION_ACCOUNT_MISSING: { status: 409, en: 'The discom has no collection account for RTGS/NEFT set up yet. Pay online, or ask the discom.', hi: 'डिस्कॉम का RTGS/NEFT संग्रह खाता अभी सेट नहीं है। ऑनलाइन भुगतान करें, या डिस्कॉम से पूछें।' },
  EXCEPTION_NOT_OPEN: { status: 409, en: 'This exception is already resolved.', hi: 'यह अपवाद पहले ही निपटाया जा चुका है।' },
  RESOLUTION_NOT_ALLOWED: { status: 422, en: 'This action does not fit this exception.', hi: 'यह कार्रवाई इस अपवाद पर लागू नहीं होती।' },
  STATEMENT_INVALID: { status: 422, en: 'The file is not a valid bank statement.', hi: 'फ़ाइल एक मान्य बैंक विवरण नहीं है।' },
  INVALID_SIGNATURE: { status: 401, en: 'The signature does not verify.', hi: 'हस्ताक्षर सत्यापित नहीं होता।' },
  GATEWAY_UNAVAILABLE: { status: 503, en: 'The payment gateway is not reachable. No money was taken; please try again shortly.', hi: 'भुगतान गेटवे उपलब्ध नहीं है। कोई राशि नहीं ली गई; कृपया थोड़ी देर बाद प्रयास करें।' },
  BILLING_SYSTEM_UNAVAILABLE: { status: 503, en: 'The billing system is not reachable. Please try again later.', hi: 'बिलिंग प्रणाली उपलब्ध नहीं है। कृपया बाद में प्रयास करें।' },
  DATABASE_UNAVAILABLE: { status: 503, en: 'The service cannot reach its database for a moment. Please try again shortly; trying again never makes a payment twice.', hi: 'सेवा कुछ समय के लिए अपने डेटाबेस तक नहीं पहुँच पा रही है। कृपया थोड़ी देर बाद फिर प्रयास करें; दोबारा प्रयास करने से भुगतान कभी दो बार नहीं होता।' },
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
