// Where a sales file lives decides whose and which day it is: incoming/<store_code>/<YYYY-MM-DD>/<name>.csv[.gz]
import { isValidIsoDate } from '../domain/dates.ts';

export interface SalesFileKey {
  storeCode: string;
  businessDate: string;
  /** the file name without .csv / .csv.gz */
  baseName: string;
  fileName: string;
  gzip: boolean;
}

export type KeyResult = { ok: true; value: SalesFileKey } | { ok: false; reason: string };

export const INCOMING_PREFIX = 'incoming/';
export const STORE_CODE = /^[A-Za-z0-9_-]{1,32}$/;

export function parseSalesFileKey(key: string): KeyResult {
  const parts = key.split('/');
  if (parts.length !== 4 || parts[0] !== 'incoming') {
    return { ok: false, reason: `key ${key} is not incoming/<store_code>/<YYYY-MM-DD>/<name>.csv` };
  }
  const [, storeCode, businessDate, fileName] = parts as [string, string, string, string];
  if (!STORE_CODE.test(storeCode)) return { ok: false, reason: `store code "${storeCode}" in the key is not valid` };
  if (!isValidIsoDate(businessDate)) {
    return { ok: false, reason: `"${businessDate}" in the key is not a date (YYYY-MM-DD)` };
  }
  const lower = fileName.toLowerCase();
  const gzip = lower.endsWith('.csv.gz');
  if (!gzip && !lower.endsWith('.csv')) {
    return { ok: false, reason: `file ${fileName} must end in .csv or .csv.gz` };
  }
  const baseName = fileName.slice(0, fileName.length - (gzip ? 7 : 4));
  if (baseName === '') return { ok: false, reason: 'the file name is empty' };
  return { ok: true, value: { storeCode, businessDate, baseName, fileName, gzip } };
}

export function salesFileKey(storeCode: string, businessDate: string, fileName: string): string {
  return `${INCOMING_PREFIX}${storeCode}/${businessDate}/${fileName}`;
}

export function rejectedRowsKey(k: SalesFileKey): string {
  return `rejected/${k.storeCode}/${k.businessDate}/${k.baseName}.errors.csv`;
}
