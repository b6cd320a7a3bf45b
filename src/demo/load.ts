// The demo chain a newcomer sees on the first `npm start`: a few stores, a catalogue, stock levels and a week of
// daily sales files put into the sales bucket, where the ordinary event pipeline loads them. Only on an empty
// database, and never when SHOPFLOW_DEMO=false.
import type { App } from '../app.ts';
import { addDays, todayIn } from '../domain/dates.ts';
import { putSalesFile } from '../ingest/submit.ts';
import { importProducts, importStock, importStores } from '../masterdata/import.ts';
import { type DemoOptions, demoDates, generateMasterData, iterateSalesRows } from './generate.ts';
import { productsCsv, salesCsv, stockCsv, storesCsv } from './write.ts';

export const DEMO_OPTIONS: Omit<DemoOptions, 'startDate'> = {
  stores: 4,
  products: 120,
  days: 7,
  seed: 42,
  rowsPerStoreDay: 200,
};

export async function loadDemoIfEmpty(app: App): Promise<boolean> {
  const { db } = app.ctx.database;
  const any = await db.selectFrom('stores').select('id').limit(1).executeTakeFirst();
  if (any) return false;
  const opts: DemoOptions = {
    ...DEMO_OPTIONS,
    startDate: addDays(todayIn(app.ctx.config.timezone), -DEMO_OPTIONS.days),
  };
  const master = generateMasterData(opts);
  await importStores(app.ctx.database, storesCsv(master), 'demo');
  await importProducts(app.ctx.database, productsCsv(master), 'demo');
  await importStock(app.ctx.database, stockCsv(master), 'demo');
  for (const store of master.stores) {
    if (store.kind !== 'file') continue;
    for (const date of demoDates(opts)) {
      await putSalesFile(app, {
        bytes: salesCsv(iterateSalesRows(opts, master, store.store_code, date)),
        storeCode: store.store_code,
        businessDate: date,
        fileName: `vendas-${date}.csv`,
      });
    }
  }
  app.ctx.log.info({ stores: master.stores.length, products: master.products.length }, 'demo chain loaded');
  return true;
}
