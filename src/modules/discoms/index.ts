export { discomRoutes } from './routes.ts';
export { DiscomService } from './service.ts';
export { discomIdOf, orgSeenBy, orgsSeenBy, reportDiscom } from './scope.ts';
