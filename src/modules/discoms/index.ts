export { discomRoutes } from './routes.ts';
export { DiscomService } from './service.ts';
