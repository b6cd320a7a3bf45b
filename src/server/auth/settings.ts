// Session and login-throttling settings, read from the environment and validated when the server is built (a
// wrong value stops the start, naming the variable). Kept beside the auth plugin rather than in src/config.ts so
// the CLI, which never serves sessions, does not depend on them.
import { z } from 'zod';
import { ShopflowError } from '../../errors.ts';
import { DEFAULT_LOGIN_SETTINGS, HARD_LOCK_FAILURES, type LoginSettings } from '../../users/login.ts';
import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from '../../users/sessions.ts';

export interface AuthSettings {
  session: SessionSettings;
  login: LoginSettings;
  /** `__Host-shopflow` + Secure when true (HTTPS); `shopflow_session` otherwise, so plain http://127.0.0.1 works */
  cookieSecure: boolean;
}

const schema = z.object({
  SHOPFLOW_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(1440).default(DEFAULT_SESSION_SETTINGS.idleMinutes),
  SHOPFLOW_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(168).default(DEFAULT_SESSION_SETTINGS.maxHours),
  SHOPFLOW_LOGIN_MAX_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .max(HARD_LOCK_FAILURES)
    .default(DEFAULT_LOGIN_SETTINGS.maxFailures),
  SHOPFLOW_LOGIN_IP_MAX_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(DEFAULT_LOGIN_SETTINGS.ipMaxFailures),
  SHOPFLOW_LOGIN_IP_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(1440)
    .default(DEFAULT_LOGIN_SETTINGS.ipWindowMinutes),
});

export function authSettingsFromEnv(cookieSecure: boolean, env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in schema.shape && v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ where: String(i.path.join('.')), problem: i.message }));
    throw new ShopflowError(
      'config',
      `invalid configuration: ${details.map((d) => `${d.where} ${d.problem}`).join('; ')}`,
      details,
    );
  }
  const e = parsed.data;
  return {
    session: { idleMinutes: e.SHOPFLOW_SESSION_IDLE_MINUTES, maxHours: e.SHOPFLOW_SESSION_MAX_HOURS },
    login: {
      maxFailures: e.SHOPFLOW_LOGIN_MAX_FAILURES,
      ipMaxFailures: e.SHOPFLOW_LOGIN_IP_MAX_FAILURES,
      ipWindowMinutes: e.SHOPFLOW_LOGIN_IP_WINDOW_MINUTES,
    },
    cookieSecure,
  };
}
