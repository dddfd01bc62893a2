export { paymentRoutes } from './routes.ts';
export { buildGateway, SANDBOX_KEY_ID, SANDBOX_PREFIX, type Payments } from './gateway.ts';
export { runPostings, retryPostings, postingId, postingCounts } from './postings.ts';
export { runJanitor, receiveWebhook, processEvent, queryAttempt } from './confirm.ts';
export { batchInScope, openBatchOf } from './batches.ts';
export { settlePayment, type SettleOptions } from './settle.ts';
export { recordUnmatchedCapture, recordUnmatchedCaptures, resolveUnmatchedCapture } from './unmatched.ts';
export { postLedger } from './ledger.ts';
