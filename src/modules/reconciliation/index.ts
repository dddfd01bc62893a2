export { reconciliationRoutes } from './routes.ts';
export { bankTransferFromWebhook, intakeCredit, resolveException, validateEcollect, type CreditIn, type IntakeOutcome, type ResolveAction } from './credits.ts';
export { expireChallans, issueChallan, challanView } from './challans.ts';
export { applyWaitingCredits, importStatementFile } from './statements.ts';
export { flagUnsettled, importSettlementReport, workingDaysBefore } from './settlements.ts';
