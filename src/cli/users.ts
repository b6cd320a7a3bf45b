// `shopflow users …` and `shopflow tokens …`: what an administrator does at the server's terminal. Passwords and
// token secrets are printed once and never logged; `--password-stdin` keeps a chosen password out of the shell
// history and the process list.
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import type { Role } from '../db/schema.ts';
import { ShopflowError } from '../errors.ts';
import { generatePassword } from '../users/passwords.ts';
import { storeIdsForCodes } from '../users/stores.ts';
import { createToken, listTokens, revokeToken, TOKEN_PURPOSES, type TokenPurpose } from '../users/tokens.ts';
import { createUser, listUsers, ROLES, setPassword, updateUser } from '../users/users.ts';
import type { CliKit } from './commands.ts';

function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

const role = (v: string): Role => {
  if (!(ROLES as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return v as Role;
};
const purpose = (v: string): TokenPurpose => {
  if (!(TOKEN_PURPOSES as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`must be one of ${TOKEN_PURPOSES.join(', ')}`);
  }
  return v as TokenPurpose;
};
const codes = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Reads a password from standard input: everything up to the first line break. */
export async function readPasswordFromStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString('utf8');
  const password = text.split(/\r?\n/)[0] ?? '';
  if (!password) throw new ShopflowError('invalid_input', 'no password on standard input');
  return password;
}

export function registerUserCommands(program: Command, kit: CliKit): void {
  const users = program.command('users').description('people who log in: roles and stores');

  users
    .command('add <username>')
    .description('create a user; prints a generated password unless --password-stdin')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--stores <codes>', 'comma-separated store codes (not for admins, who see every store)', codes, [])
    .option('--password-stdin', 'read the password from standard input')
    .option('--display-name <name>', 'the name people see')
    .option('--email <address>', 'for alerts')
    .option('--phone <number>', 'for SMS alerts')
    .option('--json', 'machine-readable output')
    .action(
      async (
        username: string,
        o: {
          role: Role;
          stores: string[];
          passwordStdin?: boolean;
          displayName?: string;
          email?: string;
          phone?: string;
          json?: boolean;
        },
      ) => {
        const generated = o.passwordStdin ? undefined : generatePassword();
        const password = generated ?? (await readPasswordFromStdin());
        const user = await kit.withApp((app) =>
          createUser(
            app.ctx.database,
            {
              username,
              password,
              role: o.role,
              stores: o.stores,
              displayName: o.displayName,
              email: o.email,
              phone: o.phone,
            },
            cliActor(),
          ),
        );
        if (o.json) return kit.printJson(generated ? { user, password: generated } : { user });
        process.stdout.write(
          `user ${user.username} created: ${user.role}, ${user.role === 'admin' ? 'every store' : `stores ${user.stores.join(', ')}`}\n`,
        );
        if (generated) process.stdout.write(`password: ${generated}\n(shown once: give it to ${user.username})\n`);
      },
    );

  users
    .command('list')
    .description('every user, with role, stores and state')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const rows = await kit.withApp((app) => listUsers(app.ctx.database));
      if (o.json) return kit.printJson(rows);
      kit.printTable(
        ['username', 'role', 'stores', 'state', 'last login'],
        rows.map((u) => [
          u.username,
          u.role,
          u.role === 'admin' ? '(all)' : u.stores.join(','),
          u.disabled ? 'disabled' : 'active',
          u.lastLoginAt ?? '',
        ]),
      );
    });

  users
    .command('disable <username>')
    .description('stop a user from logging in; ends their sessions at once')
    .action(async (username: string) => {
      const u = await kit.withApp((app) => updateUser(app.ctx.database, username, { disabled: true }, cliActor()));
      process.stdout.write(`user ${u.username} disabled\n`);
    });

  users
    .command('enable <username>')
    .description('let a disabled user log in again')
    .action(async (username: string) => {
      const u = await kit.withApp((app) => updateUser(app.ctx.database, username, { disabled: false }, cliActor()));
      process.stdout.write(`user ${u.username} enabled\n`);
    });

  users
    .command('passwd <username>')
    .description('set a new password (generated unless --password-stdin); ends their sessions and any login lock')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, o: { passwordStdin?: boolean }) => {
      const generated = o.passwordStdin ? undefined : generatePassword();
      const password = generated ?? (await readPasswordFromStdin());
      await kit.withApp((app) => setPassword(app.ctx.database, username, password, cliActor()));
      process.stdout.write(`password of ${username.toLowerCase()} set\n`);
      if (generated) process.stdout.write(`password: ${generated}\n(shown once)\n`);
    });

  const tokens = program.command('tokens').description('API tokens for store systems (upload) and kiosks (kiosk)');

  tokens
    .command('create')
    .description('create a token bound to one store and purpose; prints it once')
    .requiredOption('--store <code>', 'the store it acts for')
    .requiredOption('--purpose <purpose>', `one of ${TOKEN_PURPOSES.join(', ')}`, purpose)
    .option('--label <label>', 'what it is for, e.g. "POS server" or "kiosk 2"')
    .option('--json', 'machine-readable output')
    .action(async (o: { store: string; purpose: TokenPurpose; label?: string; json?: boolean }) => {
      const created = await kit.withApp((app) =>
        createToken(app.ctx.database, { store: o.store, purpose: o.purpose, label: o.label }, cliActor()),
      );
      if (o.json) return kit.printJson(created);
      process.stdout.write(
        `token ${created.id} for store ${created.store} (${created.purpose}):\n${created.token}\n` +
          '(shown once: send it as "Authorization: Bearer <token>")\n',
      );
    });

  tokens
    .command('revoke <id>')
    .description('revoke a token; it stops working at its next request')
    .action(async (id: string) => {
      const t = await kit.withApp((app) => revokeToken(app.ctx.database, kit.positiveInt(id), cliActor()));
      process.stdout.write(`token ${t.id} (${t.store}, ${t.purpose}) revoked\n`);
    });

  tokens
    .command('list')
    .description('tokens (never their secrets)')
    .option('--store <code>', 'only this store')
    .option('--all', 'include revoked tokens')
    .option('--json', 'machine-readable output')
    .action(async (o: { store?: string; all?: boolean; json?: boolean }) => {
      const rows = await kit.withApp(async (app) => {
        const storeIds = o.store ? await storeIdsForCodes(app.ctx.database.db, [o.store], '--store') : undefined;
        return listTokens(app.ctx.database, { storeIds, includeRevoked: o.all });
      });
      if (o.json) return kit.printJson(rows);
      kit.printTable(
        ['id', 'store', 'purpose', 'label', 'created', 'last used', 'revoked'],
        rows.map((t) => [t.id, t.store, t.purpose, t.label ?? '', t.createdAt, t.lastUsedAt ?? '', t.revokedAt ?? '']),
      );
    });
}
