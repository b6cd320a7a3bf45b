// Reading and setting a store's scale-label profile (stores.scale_profile, JSON; see src/domain/scale-label.ts).
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { inTransaction, nowIso } from '../db/tx.ts';
import { type ScaleProfile, validateScaleProfile } from '../domain/scale-label.ts';
import { invalid } from '../errors.ts';
import { findStore, forgetStore } from '../inventory/catalog.ts';
import { scaleProfileOf } from './resolve.ts';

export async function getScaleProfile(database: Database, storeCode: string): Promise<ScaleProfile | null> {
  return scaleProfileOf(await findStore(database.db, storeCode));
}

/** Sets (or with null, removes) the profile; every field is checked and each wrong one named. */
export async function setScaleProfile(
  database: Database,
  storeCode: string,
  input: unknown,
  actor: string,
): Promise<ScaleProfile | null> {
  let profile: ScaleProfile | null = null;
  if (input !== null) {
    const r = validateScaleProfile(input);
    if (!r.ok) {
      throw invalid(
        `the scale profile is not valid: ${r.problems.map((p) => `${p.where} ${p.problem}`).join('; ')}`,
        r.problems.map((p) => ({ where: `profile/${p.where}`, problem: p.problem })),
      );
    }
    profile = r.profile;
  }
  const store = await findStore(database.db, storeCode);
  await inTransaction(database, async (trx) => {
    await trx
      .updateTable('stores')
      .set({ scale_profile: profile === null ? null : JSON.stringify(profile), updated_at: nowIso() })
      .where('id', '=', store.id)
      .execute();
    await audit(
      trx,
      actor,
      'store.scale_profile',
      { before: store.scaleProfile, after: profile },
      `store:${store.code}`,
      store.id,
    );
  });
  forgetStore(database.db, store.code);
  return profile;
}
