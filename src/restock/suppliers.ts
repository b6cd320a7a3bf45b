// Suppliers are known by the name products carry (`products.supplier`); this table only adds where their purchase
// orders are e-mailed.
import { audit } from '../db/audit.ts';
import type { Database } from '../db/connect.ts';
import { inTransaction, nowIso, type Tx } from '../db/tx.ts';
import { invalid } from '../errors.ts';

export interface SupplierView {
  name: string;
  email: string | null;
  products: number;
}

// deliberately loose: the mail server is the judge; this catches typos such as a missing @ or spaces
export const EMAIL_RE = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

export async function listSuppliers(db: Tx): Promise<SupplierView[]> {
  const fromProducts = await db
    .selectFrom('products')
    .select(['supplier', (eb) => eb.fn.countAll<number>().as('n')])
    .where('supplier', 'is not', null)
    .groupBy('supplier')
    .execute();
  const emails = await db.selectFrom('suppliers').select(['name', 'email']).execute();
  const out = new Map<string, SupplierView>();
  for (const p of fromProducts) {
    if (p.supplier) out.set(p.supplier, { name: p.supplier, email: null, products: Number(p.n) });
  }
  for (const s of emails) {
    const e = out.get(s.name);
    if (e) e.email = s.email;
    else out.set(s.name, { name: s.name, email: s.email, products: 0 });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function setSupplierEmail(
  database: Database,
  name: string,
  email: string | null,
  actor: string,
): Promise<SupplierView> {
  const n = name.trim();
  if (n.length === 0 || n.length > 200)
    throw invalid('a supplier name has 1 to 200 characters', [{ where: 'name', problem: 'length' }]);
  if (email !== null && (email.length > 254 || !EMAIL_RE.test(email))) {
    throw invalid(`"${email}" is not an e-mail address`, [{ where: 'email', problem: 'is not an e-mail address' }]);
  }
  await inTransaction(database, async (trx) => {
    const at = nowIso();
    const existing = await trx.selectFrom('suppliers').select('id').where('name', '=', n).executeTakeFirst();
    if (existing)
      await trx.updateTable('suppliers').set({ email, updated_at: at }).where('id', '=', existing.id).execute();
    else await trx.insertInto('suppliers').values({ name: n, email, created_at: at, updated_at: at }).execute();
    await audit(trx, actor, 'supplier.email', { email }, `supplier:${n}`);
  });
  return (await listSuppliers(database.db)).find((s) => s.name === n)!;
}
