// A worker process for crash tests: opens the app from the environment and processes queued events until killed.
import pino from 'pino';
import { openApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';

const app = await openApp(loadConfig(process.env), { runtime: true, log: pino({ level: 'silent' }) });
for (;;) {
  await app.runtime!.drain();
  await new Promise((r) => setTimeout(r, 50));
}
