export { taggingRoutes } from './routes.ts';
export { TaggingService } from './service.ts';
export { commitJob, failJob, validateJob, checkConsumerNo } from './bulk.ts';
