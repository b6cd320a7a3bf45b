// The `shopflow` command as a user runs it (a child process, real database, real buckets), on SQLite and MariaDB:
// master-data imports of a Windows-1252, semicolon, decimal-comma file set, then the JSON shapes other tools read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { encodeWindows1252 } from '../src/demo/encoding.ts';
import { backends, createTestDatabase, type TestDatabase } from './support/db.ts';

const run = promisify(execFile);

for (const dialect of backends()) {
  describe(`shopflow CLI on ${dialect}`, () => {
    let db: TestDatabase;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const cli = async (...args: string[]) => {
      try {
        const r = await run(process.execPath, ['bin/shopflow.js', ...args], { env, maxBuffer: 64 << 20 });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    };
    const file = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, encodeWindows1252(text.replace(/\n/g, '\r\n')));
      return p;
    };

    before(async () => {
      db = await createTestDatabase(dialect, { migrated: false });
      await db.database.close();
      dir = mkdtempSync(join(tmpdir(), 'shopflow-cli-'));
      env = {
        ...process.env,
        SHOPFLOW_DATABASE_URL: db.url,
        SHOPFLOW_DATA_DIR: dir,
        SHOPFLOW_STORAGE: `local:${join(dir, 'buckets')}`,
        SHOPFLOW_DEMO: 'false',
        SHOPFLOW_LOG_LEVEL: 'warn',
        // the small file below has one bad line in five
        SHOPFLOW_REJECT_THRESHOLD: '0.25',
      };
    });
    after(async () => {
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('imports stores, products and stock from Windows-1252 ; decimal-comma files, reporting bad lines', async () => {
      const stores = file(
        'lojas.csv',
        'Código Loja;Nome;Tipo;Cidade;Fuso\nS01;Supermercado São João;arquivo;São Paulo;America/Sao_Paulo\nK01;Pit Stop Paraná;autoatendimento;Curitiba;\nbad code!;Loja X;arquivo;;\n',
      );
      const products = file(
        'produtos.csv',
        'Código;GTIN;Descrição;Departamento;Unidade;Preço Venda;Fornecedor;Embalagem;Prazo Entrega\n' +
          'P1;7891000315507;Pão Francês;Padaria;KG;14,90;Padaria Central;1;1\n' +
          'P2;7894900011517;Refrigerante 2L;Bebidas;UN;9,49;Distribuidora Sul;6;3\n' +
          'P3;7894900011518;Água 500ml;Bebidas;UN;2,00;Distribuidora Sul;12;3\n' +
          'P4;;Açúcar Cristal 1kg;Mercearia;UN;1.234,50;;;\n',
      );
      const stock = file(
        'estoque.csv',
        'Loja;Código;Estoque;Estoque Mínimo;Estoque Máximo\nS01;P1;12,345;5;30\nS01;P2;10;12;48\nS01;P4;3;;\nK01;P2;1,5;1;2\nS01;NOPE;1;;\n',
      );

      const s = await cli('stores', 'import', stores, '--json');
      assert.equal(s.code, 0, s.stderr);
      const sr = JSON.parse(s.stdout);
      assert.equal(sr.inserted, 2);
      assert.deepEqual(
        sr.rejected.map((r: { line: number; column: string }) => [r.line, r.column]),
        [[4, 'store_code']],
      );

      const p = await cli('products', 'import', products, '--json');
      assert.equal(p.code, 0, p.stderr);
      const pr = JSON.parse(p.stdout);
      assert.equal(pr.inserted, 3);
      assert.equal(pr.rejected.length, 1);
      assert.equal(pr.rejected[0].line, 4);
      assert.equal(pr.rejected[0].column, 'ean');
      assert.match(pr.rejected[0].reason, /check digit/);

      const k = await cli('stock', 'import', stock, '--json');
      assert.equal(k.code, 0, k.stderr);
      const kr = JSON.parse(k.stdout);
      assert.deepEqual(
        kr.rejected.map((r: { line: number; column: string }) => [r.line, r.column]),
        [
          [5, 'on_hand'],
          [6, 'sku'],
        ],
      );
      assert.match(kr.rejected[0].reason, /whole/);

      const list = await cli('stock', 'list', '--json');
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout), [
        { store: 'S01', sku: 'P1', onHand: 12.345, reorderPoint: 5, targetLevel: 30, low: false },
        { store: 'S01', sku: 'P2', onHand: 10, reorderPoint: 12, targetLevel: 48, low: true },
        { store: 'S01', sku: 'P4', onHand: 3, reorderPoint: null, targetLevel: null, low: false },
      ]);
      const low = await cli('stock', 'list', '--low', '--store', 'S01', '--json');
      assert.deepEqual(
        JSON.parse(low.stdout).map((r: { sku: string }) => r.sku),
        ['P2'],
      );
      const human = await cli('stock', 'list');
      assert.match(human.stdout, /Pão Francês/);
    });

    it('ingests a file and answers sales and files queries in the documented shapes', async () => {
      const sales = join(dir, 'vendas.csv');
      writeFileSync(
        sales,
        'cupom,item,hora,codigo,quantidade,preco,valor_total,pagamento\nC1,1,08:01,P1,0.500,14.90,7.45,pix\nC1,2,08:01,P2,2,9.49,18.98,pix\nC2,1,09:30,P2,1,9.49,9.49,dinheiro\nC3,1,10:00,P2,-1,9.49,-9.49,dinheiro\nC4,1,10:05,P9,1,1.00,1.00,pix\n',
      );
      const r = await cli('ingest', sales, '--store', 'S01', '--date', '2026-03-02', '--json');
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(out), ['status', 'rowsTotal', 'rowsLoaded', 'rowsRejected', 'rejections']);
      assert.equal(out.status, 'loaded');
      assert.equal(out.rowsTotal, 5);
      assert.equal(out.rowsLoaded, 4);
      assert.equal(out.rowsRejected, 1);
      assert.deepEqual(out.rejections, [
        { line: 6, column: 'sku', value: 'P9', reason: 'product P9 is not in the catalogue' },
      ]);
      assert.ok(!('reason' in out));

      const again = JSON.parse(
        (await cli('ingest', sales, '--store', 'S01', '--date', '2026-03-02', '--json', '--name', 'copia.csv')).stdout,
      );
      assert.equal(again.status, 'duplicate');

      const byPayment = JSON.parse(
        (await cli('sales', '--from', '2026-03-01', '--to', '2026-03-31', '--by', 'payment', '--json')).stdout,
      );
      assert.deepEqual(byPayment, [
        { key: 'pix', quantity: 2.5, revenueCents: 2643, tickets: 1 },
        { key: 'cash', quantity: 0, revenueCents: 0, tickets: 2 },
      ]);
      const byProduct = JSON.parse(
        (await cli('sales', '--from', '2026-03-02', '--to', '2026-03-02', '--by', 'product', '--json')).stdout,
      );
      assert.deepEqual(byProduct, [
        { key: 'P2', quantity: 2, revenueCents: 1898, tickets: 3 },
        { key: 'P1', quantity: 0.5, revenueCents: 745, tickets: 1 },
      ]);
      const list = JSON.parse((await cli('stock', 'list', '--store', 'S01', '--json')).stdout);
      assert.equal(list.find((x: { sku: string }) => x.sku === 'P1').onHand, 11.845);
      assert.equal(list.find((x: { sku: string }) => x.sku === 'P2').onHand, 8);

      const files = JSON.parse((await cli('files', 'list', '--json')).stdout);
      assert.deepEqual(
        files.map((f: { status: string }) => f.status),
        ['duplicate', 'loaded'],
      );
      const shown = JSON.parse((await cli('files', 'show', String(files[1].id), '--json')).stdout);
      assert.equal(shown.rejections[0].line, 6);
    });

    it('says what is wrong in one line and exits non-zero', async () => {
      const missing = await cli('stores', 'import', join(dir, 'nope.csv'));
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /^shopflow: file .*nope\.csv does not exist\n$/);
      const badDate = await cli('sales', '--from', '2026-13-01', '--to', '2026-12-01');
      assert.notEqual(badDate.code, 0);
      assert.match(badDate.stderr, /not a date/);
      const headerless = join(dir, 'bad.csv');
      writeFileSync(headerless, 'a,b\n1,2\n');
      const failed = await cli('ingest', headerless, '--store', 'S01', '--date', '2026-03-03', '--json');
      assert.notEqual(failed.code, 0);
      assert.equal(JSON.parse(failed.stdout).status, 'failed');
      const badEnv = await run(process.execPath, ['bin/shopflow.js', 'migrate'], {
        env: { ...env, SHOPFLOW_PORT: 'eighty' },
      }).catch((e) => e as { code: number; stderr: string });
      assert.equal((badEnv as { code: number }).code, 78);
      assert.match((badEnv as { stderr: string }).stderr, /SHOPFLOW_PORT/);
    });
  });
}
