// What every entry point (server, CLI, Lambda, worker) hands to the feature modules.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Database } from './db/connect.ts';
import type { ObjectStore } from './storage/object-store.ts';

export interface AppContext {
  config: Config;
  database: Database;
  store: ObjectStore;
  log: Logger;
}
