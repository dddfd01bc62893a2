export { duesRoutes } from './routes.ts';
export { runDailyAlerts, type AlertRunResult } from './alerts.ts';
export { istDay } from './query.ts';
