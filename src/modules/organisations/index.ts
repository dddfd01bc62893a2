export { organisationRoutes } from './routes.ts';
export { RegistrationService, ORGANISATION_TYPES } from './registration.ts';
export { DirectoryService, scopeOf } from './directory.ts';
export { ApiKeyService } from './api-keys.ts';
