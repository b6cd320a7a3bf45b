// A store-day's sales summed in memory, by every grouping the roll-up tables keep, while the lines stream past:
// the size is bounded by the catalogue (products, categories, payment methods), never by the number of lines.
//
// Tickets are distinct receipts per group. Counting them needs no set of receipts when each receipt's lines are
// contiguous (as a till writes them): a group gains a ticket when the receipt it last saw is not the current
// one. `receiptRuns` counts the receipt changes of the whole stream; it equals the number of distinct receipts
// exactly when every receipt was one contiguous run, which is what the caller checks before trusting the
// ticket counts (otherwise it derives them from the stored lines instead).

export interface AggregateLine {
  receiptId: string;
  productId: number;
  quantityMilli: number;
  totalCents: number;
  paymentMethod: string | null;
}

export interface AggregateProduct {
  unit: 'UN' | 'KG';
  category: string | null;
}

/** quantity_milli, revenue_cents, line_count, tickets, items, gross_revenue_cents, gross_quantity_milli */
export type Figures = [q: number, r: number, n: number, t: number, i: number, gr: number, gq: number];

interface Group {
  f: Figures;
  lastRun: number;
}

/** What a line counts as in `items`: whole units for `UN` (toward zero), one per line for weighed products. */
export function itemsOf(unit: 'UN' | 'KG', quantityMilli: number): number {
  if (unit === 'KG') return quantityMilli < 0 ? -1 : 1;
  return (quantityMilli - (quantityMilli % 1000)) / 1000;
}

export const paymentKey = (m: string | null) => m ?? 'unknown';
export const categoryKey = (c: string | null) => c ?? '';

export class DayAggregate {
  readonly byProduct = new Map<number, Group>();
  readonly byPayment = new Map<string, Group>();
  readonly byCategory = new Map<string, Group>();
  /** keyed `category \u0000 payment` */
  readonly byCategoryPayment = new Map<string, Group>();
  /** the same groups by category, then payment: found per line without building the joined key */
  private readonly categoryPayment = new Map<string, Map<string, Group>>();
  readonly whole: Group = { f: [0, 0, 0, 0, 0, 0, 0], lastRun: -1 };
  /** how many times the receipt changed along the stream (the first receipt counts) */
  receiptRuns = 0;
  private lastReceipt: string | undefined;

  add(line: AggregateLine, product: AggregateProduct): void {
    if (line.receiptId !== this.lastReceipt) {
      this.receiptRuns++;
      this.lastReceipt = line.receiptId;
    }
    const run = this.receiptRuns;
    const item = itemsOf(product.unit, line.quantityMilli);
    const payment = paymentKey(line.paymentMethod);
    const category = categoryKey(product.category);
    bump(group(this.byProduct, line.productId), line, item, run);
    bump(group(this.byPayment, payment), line, item, run);
    bump(group(this.byCategory, category), line, item, run);
    bump(this.categoryPaymentGroup(category, payment), line, item, run);
    bump(this.whole, line, item, run);
  }

  private categoryPaymentGroup(category: string, payment: string): Group {
    let byPayment = this.categoryPayment.get(category);
    if (!byPayment) {
      byPayment = new Map();
      this.categoryPayment.set(category, byPayment);
    }
    let g = byPayment.get(payment);
    if (!g) {
      g = group(this.byCategoryPayment, `${category}\u0000${payment}`);
      byPayment.set(payment, g);
    }
    return g;
  }

  get lineCount(): number {
    return this.whole.f[2];
  }
}

function group<K>(map: Map<K, Group>, key: K): Group {
  let g = map.get(key);
  if (!g) {
    g = { f: [0, 0, 0, 0, 0, 0, 0], lastRun: -1 };
    map.set(key, g);
  }
  return g;
}

function bump(g: Group, l: AggregateLine, item: number, run: number): void {
  const f = g.f;
  f[0] += l.quantityMilli;
  f[1] += l.totalCents;
  f[2] += 1;
  if (g.lastRun !== run) {
    f[3] += 1;
    g.lastRun = run;
  }
  f[4] += item;
  if (l.totalCents > 0) f[5] += l.totalCents;
  if (l.quantityMilli > 0) f[6] += l.quantityMilli;
}
