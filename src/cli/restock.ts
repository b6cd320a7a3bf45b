// `shopflow restock …`: restock orders at the server's terminal, the same functions as /api/v1/restock-orders. The
// CLI acts with every store in view, as an operator at the server does; the supplier's e-mail of an approved order
// (or of its next revision) is queued and sent by the running server's worker.
import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { ShopflowError } from '../errors.ts';
import { approveOrder } from '../restock/issue.ts';
import {
  cancelOrder,
  getOrder,
  listOrders,
  RESTOCK_STATUSES,
  type RestockOrderView,
  type RestockStatus,
  receiveAgainstOrder,
} from '../restock/orders.ts';
import { listSuppliers, setSupplierEmail } from '../restock/suppliers.ts';
import type { CliKit } from './commands.ts';

function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

const status = (v: string): RestockStatus | 'open' => {
  if (v !== 'open' && !(RESTOCK_STATUSES as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`must be open or one of ${RESTOCK_STATUSES.join(', ')}`);
  }
  return v as RestockStatus | 'open';
};

/** `SKU=QUANTITY`, repeatable */
const receiptLine = (v: string, previous: Array<{ sku: string; quantity: string }> = []) => {
  const m = /^([^=\s]+)=(\S+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`"${v}" is not SKU=QUANTITY (e.g. ARROZ=12 or QUEIJO=1.250)`);
  return [...previous, { sku: m[1]!, quantity: m[2]! }];
};

function printOrder(o: RestockOrderView): void {
  const out = process.stdout;
  out.write(
    `restock order ${o.id}: ${o.store} (${o.storeName}) ← ${o.supplier}, ${o.status.replace('_', ' ')}` +
      `${o.revision > 0 ? `, revision ${o.revision}` : ''}\n`,
  );
  if (o.pendingChanges) {
    out.write(`  changes since revision ${o.revision} await approval (since ${o.amendedAt}): approve to re-issue\n`);
  }
  if (o.approvedBy) out.write(`  approved by ${o.approvedBy} at ${o.approvedAt}\n`);
  if (o.documents) out.write(`  purchase order: ${o.documents.pdf}, ${o.documents.csv} (reports bucket)\n`);
  if (o.emailedTo) out.write(`  revision ${o.emailedRevision} e-mailed to ${o.emailedTo} at ${o.emailedAt}\n`);
  for (const l of o.lines) {
    out.write(
      `  ${l.sku}  ${l.name}: ${l.quantity} ${l.unit} ordered, ${l.received} received, ${l.outstanding} outstanding` +
        `${o.revision > 0 ? `, ${l.issued} issued` : ''}\n`,
    );
    if (l.rationale) out.write(`      why: ${l.rationale.explanation}\n`);
  }
}

export function registerRestockCommands(program: Command, kit: CliKit): void {
  const restock = program
    .command('restock')
    .description('restock orders: drafted by low stock, approved, issued, received, closed');

  restock
    .command('list')
    .description('restock orders, newest first')
    .option('--store <code>', 'only this store')
    .option('--status <status>', `open, or one of ${RESTOCK_STATUSES.join(', ')}`, status)
    .option('--supplier <name>', 'only this supplier')
    .option('--limit <n>', 'at most this many', kit.positiveInt, 100)
    .option('--json', 'machine-readable output')
    .action(
      async (o: {
        store?: string;
        status?: RestockStatus | 'open';
        supplier?: string;
        limit: number;
        json?: boolean;
      }) => {
        const rows = await kit.withApp((app) => listOrders(app.ctx.database.db, o));
        if (o.json) return kit.printJson(rows);
        kit.printTable(
          ['id', 'store', 'supplier', 'status', 'revision', 'lines', 'updated'],
          rows.map((r) => [
            r.id,
            r.store,
            r.supplier,
            r.status,
            r.pendingChanges ? `${r.revision} (changes pending)` : r.revision,
            r.lineCount,
            r.updatedAt,
          ]),
        );
      },
    );

  restock
    .command('show <id>')
    .description('one order: its lines and why each quantity')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const order = await kit.withApp((app) => getOrder(app.ctx.database.db, kit.positiveInt(id)));
      if (o.json) return kit.printJson(order);
      printOrder(order);
    });

  restock
    .command('approve <id>')
    .description(
      'approve a draft, or the pending changes of an issued order: writes the PDF and CSV purchase order (the next revision) and queues the e-mail to the supplier',
    )
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const order = await kit.withApp((app) => approveOrder(app.ctx, kit.positiveInt(id), cliActor()));
      if (o.json) return kit.printJson(order);
      printOrder(order);
    });

  restock
    .command('receive <id>')
    .description('record goods received against an issued order (part of it is fine)')
    .requiredOption(
      '--line <SKU=QUANTITY>',
      'a product and the quantity received; repeat for each product',
      receiptLine,
    )
    .option('--reference <delivery-note>', "the supplier's delivery note: the same one is never received twice")
    .option('--json', 'machine-readable output')
    .action(
      async (id: string, o: { line: Array<{ sku: string; quantity: string }>; reference?: string; json?: boolean }) => {
        const orderId = kit.positiveInt(id);
        const { receipt, order } = await kit.withApp(async (app) => {
          const r = await receiveAgainstOrder(app.ctx.database, orderId, {
            lines: o.line,
            reference: o.reference,
            actor: cliActor(),
          });
          return { receipt: r, order: await getOrder(app.ctx.database.db, orderId) };
        });
        if (o.json) return kit.printJson({ receipt: receipt.receipt, reference: receipt.reference, order });
        process.stdout.write(
          `receipt ${receipt.receipt} recorded; order ${order.id} is ${order.status.replace('_', ' ')}\n`,
        );
        printOrder(order);
      },
    );

  restock
    .command('cancel <id>')
    .description('cancel an open order (what was received stays)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const orderId = kit.positiveInt(id);
      const order = await kit.withApp(async (app) => {
        await cancelOrder(app.ctx.database, orderId, cliActor());
        return getOrder(app.ctx.database.db, orderId);
      });
      if (o.json) return kit.printJson(order);
      process.stdout.write(`restock order ${order.id} cancelled\n`);
    });

  restock
    .command('suppliers')
    .description('suppliers and the address their purchase orders are e-mailed to')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const rows = await kit.withApp((app) => listSuppliers(app.ctx.database.db));
      if (o.json) return kit.printJson(rows);
      kit.printTable(
        ['supplier', 'e-mail', 'products'],
        rows.map((s) => [s.name, s.email ?? '', s.products]),
      );
    });

  restock
    .command('supplier-email <supplier> <email>')
    .description('set where a supplier’s purchase orders are e-mailed ("-" clears it)')
    .option('--json', 'machine-readable output')
    .action(async (supplier: string, email: string, o: { json?: boolean }) => {
      if (email.trim() === '') throw new ShopflowError('invalid_input', 'give an e-mail address, or - to clear it');
      const row = await kit.withApp((app) =>
        setSupplierEmail(app.ctx.database, supplier, email === '-' ? null : email.trim(), cliActor()),
      );
      if (o.json) return kit.printJson(row);
      process.stdout.write(`${row.name}: ${row.email ?? '(no e-mail)'}\n`);
    });
}
