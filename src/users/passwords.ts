// Password hashing: argon2id with at least the OWASP/ASVS minimum (m = 19 MiB, t = 2, p = 1). The hash string
// carries its own parameters, so raising them later only affects new hashes; old ones still verify.
import { randomBytes, randomInt } from 'node:crypto';
import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { reasonError, reasonProblem } from '../errors.ts';

// `Algorithm` is a const enum in the package's types, which isolatedModules cannot inline: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const PRODUCTION_ARGON2 = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

// Only for tests that create many users: the production cost (~40 ms of a core per hash) would dominate their
// run time. Never reachable from configuration; callers must pass it explicitly.
const TEST_ARGON2 = { algorithm: ARGON2ID, memoryCost: 64, timeCost: 1, parallelism: 1 } as const;

export type HashCost = 'production' | 'insecure-test-only';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export function checkPasswordPolicy(password: string, where = 'password'): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    const min = PASSWORD_MIN_LENGTH;
    throw reasonError('invalid_input', 'password_short', { min }, [reasonProblem(where, 'at_least_chars', { min })]);
  }
  if (length > PASSWORD_MAX_LENGTH) {
    const max = PASSWORD_MAX_LENGTH;
    throw reasonError('invalid_input', 'password_long', { max }, [reasonProblem(where, 'at_most_chars_have', { max })]);
  }
}

export async function hashPassword(password: string, cost: HashCost = 'production'): Promise<string> {
  return hash(password.normalize('NFC'), cost === 'production' ? PRODUCTION_ARGON2 : TEST_ARGON2);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFC'));
  } catch {
    // a malformed stored hash never lets anyone in
    return false;
  }
}

/** True when a stored hash is weaker than the production parameters (candidates for a forced reset). */
export function isBelowPolicy(stored: string): boolean {
  try {
    const o = parseOptions(stored);
    return (
      o.algorithm !== ARGON2ID ||
      o.memoryCost < PRODUCTION_ARGON2.memoryCost ||
      o.timeCost < PRODUCTION_ARGON2.timeCost ||
      o.parallelism !== PRODUCTION_ARGON2.parallelism
    );
  } catch {
    return true;
  }
}

// No look-alike characters: the password is read from a terminal and typed by a person.
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password of 20 characters from a 57-symbol alphabet (~116 bits). */
export function generatePassword(length = 20): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** A random secret, base64url, of `bytes` bytes. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
