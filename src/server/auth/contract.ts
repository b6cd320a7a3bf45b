// The access contract every route follows. Who is calling is a Principal, put on the request by the auth plugin
// (src/server/auth/plugin.ts) from a session cookie (people) or a bearer API token (machines). Each route declares
// who may call it in `config.access`; the plugin enforces it before the handler runs:
//   - no credentials → 401; a user whose role is not listed, or a token whose purpose is not listed → 403;
//   - `store` says where the request names its store (a store code): a principal who may not see that store → 403,
//     a store that does not exist → 404;
//   - state-changing requests authenticated by a session cookie must carry the session's CSRF token in the
//     `x-csrf-token` header (403 otherwise); bearer tokens are exempt.
// Routes that list chain-wide data (no `store`) must filter by `visibleStoreIds(request.principal)`.
import type { Role } from '../../db/schema.ts';

export type TokenPurpose = 'upload' | 'kiosk';

export type Principal =
  | {
      kind: 'user';
      userId: number;
      username: string;
      role: Role;
      /** the stores this user may see and change; 'all' for admins */
      storeIds: number[] | 'all';
    }
  | {
      kind: 'token';
      tokenId: number;
      purpose: TokenPurpose;
      /** a token is bound to exactly one store */
      storeId: number;
      storeIds: number[];
    };

export interface RouteAccess {
  /** user roles allowed; an empty list allows no user */
  roles: Role[];
  /** API-token purposes allowed (default none) */
  tokens?: TokenPurpose[];
  /** where the request names its store, as a store code */
  store?: { in: 'params' | 'query' | 'body'; name: string };
  /** no authentication at all (login, health); default false */
  public?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** the store named where `config.access.store` says, once the plugin has checked it (id and code) */
    accessStore?: { id: number; code: string };
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export const ALL_ROLES: Role[] = ['admin', 'manager', 'clerk'];
export const MANAGERS: Role[] = ['admin', 'manager'];

/** The store ids a principal may see, or undefined for every store. */
export function visibleStoreIds(p: Principal | undefined): number[] | undefined {
  if (!p) return [];
  if (p.kind === 'user' && p.storeIds === 'all') return undefined;
  return p.storeIds as number[];
}

export function canSeeStore(p: Principal | undefined, storeId: number): boolean {
  const ids = visibleStoreIds(p);
  return ids === undefined || ids.includes(storeId);
}

/** How a principal is named in the audit log and in `actor` columns: `user:alice`, `token:12`. */
export function actorName(p: Principal | undefined): string {
  if (!p) return 'anonymous';
  return p.kind === 'user' ? `user:${p.username}` : `token:${p.tokenId}`;
}
