import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { BillingSystem } from '../adapters/billing-system/types.ts';
import type { NotificationSender } from '../adapters/notifier/notifier.ts';
import type { Payments } from '../modules/payments/gateway.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';

/** What every module's routes and jobs are given: collaborators, never globals. */
export interface AppContext {
  config: Config;
  database: Database;
  billing: BillingSystem;
  clock: () => Date;
  /** Delivers queued e-mail and SMS when transports are configured. */
  sender?: NotificationSender;
  /** The payment gateway (and the embedded sandbox). Built from the configuration when absent. */
  payments?: Payments;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
