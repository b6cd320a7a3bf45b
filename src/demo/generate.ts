// Deterministic demo chains: stores, catalogue, stock levels and daily sales that look like a Brazilian supermarket's.
// Every value derives from the seed through independent random streams (see random.ts), so the same options give
// the same data, and any one store-day's sales can be produced without producing the others.
import { addDays, isValidIsoDate } from '../domain/dates.ts';
import { divRound } from '../domain/decimal.ts';
import { gtinCheckDigit } from '../domain/gtin.ts';
import {
  CATEGORIES,
  type CategoryTemplate,
  CITIES,
  type City,
  FEATURED,
  type ItemTemplate,
  NEIGHBOURHOODS,
  PRODUCT_LINES,
  type Unit,
  WEIGHED_QUALIFIERS,
} from './catalog.ts';
import { intBetween, pick, type Rng, rngFor, shuffle, WeightedPicker } from './random.ts';

export interface DemoOptions {
  stores: number;
  products: number;
  days: number;
  seed: number;
  /** YYYY-MM-DD, default '2026-01-01' */
  startDate?: string;
  /** share of stores of kind selfservice, default 0.25 */
  selfServiceShare?: number;
  /** average sales lines per store-day of a supermarket, default 300 (weekends sell more, kiosks far less) */
  rowsPerStoreDay?: number;
}

export type StoreKind = 'file' | 'selfservice';

export interface DemoStore {
  store_code: string;
  name: string;
  kind: StoreKind;
  city: string;
  timezone: string;
}

export interface DemoProduct {
  sku: string;
  /** EAN-13, or '' for goods without a barcode */
  ean: string;
  name: string;
  category: string;
  unit: Unit;
  /** shelf price per unit or per kilo */
  price_cents: number;
  supplier: string;
  /** restock multiple, in units (`UN`) or kilos (`KG`) */
  pack_size: number;
  lead_time_days: number;
}

export interface DemoStock {
  store_code: string;
  sku: string;
  on_hand_milli: number;
  reorder_point_milli: number;
  target_level_milli: number;
}

export interface DemoMasterData {
  stores: DemoStore[];
  products: DemoProduct[];
  stock: DemoStock[];
}

export type DemoPaymentMethod = 'dinheiro' | 'debito' | 'credito' | 'pix' | 'voucher' | 'outros';

export interface DemoSaleRow {
  store_code: string;
  business_date: string;
  receipt_id: string;
  line_no: number;
  /** HH:MM:SS, store local time */
  sold_at: string;
  sku: string;
  /** the product's EAN, or '' / 'SEM GTIN' (as the store's POS writes it) when it has none */
  ean: string;
  description: string;
  /** thousandths; negative for a return */
  quantity_milli: number;
  unit_price_cents: number;
  discount_cents: number;
  /** divRound(quantity_milli × unit_price_cents, 1000) − discount_cents */
  total_cents: number;
  payment_method: DemoPaymentMethod;
}

export const DEFAULT_START_DATE = '2026-01-01';
export const DEFAULT_SELF_SERVICE_SHARE = 0.25;
export const DEFAULT_ROWS_PER_STORE_DAY = 300;

export type ResolvedDemoOptions = Required<DemoOptions>;

export function resolveOptions(opts: DemoOptions): ResolvedDemoOptions {
  const o: ResolvedDemoOptions = {
    stores: opts.stores,
    products: opts.products,
    days: opts.days,
    seed: opts.seed,
    startDate: opts.startDate ?? DEFAULT_START_DATE,
    selfServiceShare: opts.selfServiceShare ?? DEFAULT_SELF_SERVICE_SHARE,
    rowsPerStoreDay: opts.rowsPerStoreDay ?? DEFAULT_ROWS_PER_STORE_DAY,
  };
  const wholeAtLeast = (name: keyof DemoOptions, min: number) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new RangeError(`demo option ${name} must be an integer >= ${min}, got ${String(v)}`);
    }
  };
  wholeAtLeast('stores', 1);
  wholeAtLeast('products', 1);
  wholeAtLeast('days', 0);
  wholeAtLeast('seed', Number.MIN_SAFE_INTEGER);
  wholeAtLeast('rowsPerStoreDay', 1);
  if (!isValidIsoDate(o.startDate))
    throw new RangeError(`demo option startDate must be YYYY-MM-DD, got ${o.startDate}`);
  if (!(o.selfServiceShare >= 0 && o.selfServiceShare <= 1)) {
    throw new RangeError(`demo option selfServiceShare must be within 0..1, got ${o.selfServiceShare}`);
  }
  return o;
}

/** The business dates of the demo period, oldest first. */
export function demoDates(opts: DemoOptions): string[] {
  const o = resolveOptions(opts);
  return Array.from({ length: o.days }, (_, i) => addDays(o.startDate, i));
}

// ---------------------------------------------------------------------------------------------------------------
// Master data

export function generateMasterData(opts: DemoOptions): DemoMasterData {
  const o = resolveOptions(opts);
  const stores = generateStores(o);
  const products = generateProducts(o);
  return { stores, products, stock: generateStock(o, stores, products) };
}

/**
 * Self-service stores are spread evenly through the list rather than drawn at random, so the share holds even for a
 * handful of stores (with the default 0.25, the 2nd, 6th, 10th… store), and growing the chain keeps earlier stores.
 */
function isSelfService(index: number, share: number): boolean {
  return Math.round((index + 1) * share) > Math.round(index * share);
}

const CITY_BY_NAME = new Map(CITIES.map((c) => [c.name, c]));

function cityNamed(name: string): City {
  const c = CITY_BY_NAME.get(name);
  if (!c) throw new Error(`unknown demo city ${name}`);
  return c;
}

function generateStores(o: ResolvedDemoOptions): DemoStore[] {
  const rng = rngFor('stores', o.seed);
  const cities = new WeightedPicker(CITIES.map((c) => c.weight));
  // A small demo should still show stores in other time zones than São Paulo's.
  const forced: Record<number, string | undefined> = { 0: 'São Paulo', 3: 'Recife', 6: 'Manaus' };
  const counts = { file: 0, selfservice: 0 };
  const stores: DemoStore[] = [];
  for (let i = 0; i < o.stores; i++) {
    const kind: StoreKind = isSelfService(i, o.selfServiceShare) ? 'selfservice' : 'file';
    const drawn = CITIES[cities.next(rng)]!;
    const neighbourhood = pick(rng, NEIGHBOURHOODS);
    const forcedCity = forced[i];
    const city = forcedCity ? cityNamed(forcedCity) : drawn;
    const n = ++counts[kind];
    const name = kind === 'file' ? `Supermercado ${i === 0 ? 'Centro' : neighbourhood} ${n}` : `Pit Stop ${n}`;
    stores.push({
      store_code: `S${String(i + 1).padStart(3, '0')}`,
      name,
      kind,
      city: city.name,
      timezone: city.timezone,
    });
  }
  return stores;
}

const CATEGORY_BY_NAME = new Map(CATEGORIES.map((c) => [c.category, c]));

function findItem(category: string, name: string): { cat: CategoryTemplate; item: ItemTemplate } {
  const cat = CATEGORY_BY_NAME.get(category);
  const item = cat?.items.find((it) => it[0] === name);
  if (!cat || !item) throw new Error(`featured product ${category}/${name} is not in the catalogue`);
  return { cat, item };
}

/** Prices end in 9 cents, as shelf prices do. */
function shelfPrice(baseCents: number, factor: number): number {
  return Math.max(99, Math.floor((baseCents * factor) / 10) * 10 + 9);
}

function generateProducts(o: ResolvedDemoOptions): DemoProduct[] {
  const rng = rngFor('products', o.seed);
  const categories = new WeightedPicker(CATEGORIES.map((c) => c.weight));
  const usedNames = new Set<string>();
  const usedEans = new Set<string>();
  const companyPrefixes = new Map<string, string>();
  const products: DemoProduct[] = [];

  for (let i = 0; i < o.products; i++) {
    let cat: CategoryTemplate;
    let item: ItemTemplate;
    let name: string;
    let owner: string;
    let price: number;
    let noEan: boolean;
    const featured = FEATURED[i];
    if (featured) {
      ({ cat, item } = findItem(featured.category, featured.name));
      name = item[0];
      owner = 'Da Casa';
      price = item[2];
      noEan = featured.noEan === true;
    } else {
      cat = CATEGORIES[categories.next(rng)]!;
      item = pick(rng, cat.items);
      const label = item[1] === 'KG' ? pick(rng, WEIGHED_QUALIFIERS) : pick(rng, cat.brands);
      owner = item[1] === 'KG' ? cat.suppliers[0]! : label;
      name = `${item[0]} ${label}`;
      for (let n = 0; usedNames.has(name); n++) {
        const line = PRODUCT_LINES[n % PRODUCT_LINES.length]!;
        const round = Math.floor(n / PRODUCT_LINES.length);
        name = `${item[0]} ${label} ${line}${round === 0 ? '' : ` ${round + 1}`}`;
      }
      price = shelfPrice(item[2], 0.8 + rng() * 0.5);
      // weighed goods are mostly labelled in store, without a GTIN of their own
      noEan = rng() < (item[1] === 'KG' ? 0.25 : 0.01);
    }
    usedNames.add(name);

    let ean = '';
    if (!noEan) {
      let prefix = companyPrefixes.get(owner);
      if (!prefix) {
        prefix = `789${String(intBetween(rngFor('company', o.seed, owner), 0, 9999)).padStart(4, '0')}`;
        companyPrefixes.set(owner, prefix);
      }
      do {
        const body = `${prefix}${String(intBetween(rng, 0, 99999)).padStart(5, '0')}`;
        ean = `${body}${gtinCheckDigit(body)}`;
      } while (usedEans.has(ean));
      usedEans.add(ean);
    }

    const unit = item[1];
    products.push({
      sku: `P${String(i + 1).padStart(6, '0')}`,
      ean,
      name,
      category: cat.category,
      unit,
      price_cents: price,
      supplier: pick(rng, cat.suppliers),
      pack_size: unit === 'KG' ? 1 : pick(rng, cat.packSizes),
      lead_time_days: intBetween(rng, cat.leadTimeDays[0], cat.leadTimeDays[1]),
    });
  }
  return products;
}

// ---------------------------------------------------------------------------------------------------------------
// What sells, and how much

/** Units per line of a `UN` product: mostly one. */
const UNIT_QUANTITIES = [1, 2, 3, 4, 5, 6] as const;
const UNIT_QUANTITY_PICKER = new WeightedPicker([76, 14, 5, 2, 1, 2]);
const MEAN_UNIT_QUANTITY_MILLI = 1440;
const DEFAULT_GRAMS: readonly [number, number] = [200, 1500];

function gramsOf(category: string): readonly [number, number] {
  return CATEGORY_BY_NAME.get(category)?.grams ?? DEFAULT_GRAMS;
}

interface Popularity {
  picker: WeightedPicker;
  /** each product's share of sales lines */
  share: Float64Array;
}

const popularityCache = new WeakMap<readonly DemoProduct[], Map<number, Popularity>>();

/**
 * Zipf-like long tail (weight 1/(rank+2)): the featured staples lead in list order, the rest are ranked at random
 * by the seed. Only division is used, never pow, so the weights are the same on every platform.
 */
function popularity(products: readonly DemoProduct[], seed: number): Popularity {
  let bySeed = popularityCache.get(products);
  if (!bySeed) {
    bySeed = new Map();
    popularityCache.set(products, bySeed);
  }
  const cached = bySeed.get(seed);
  if (cached) return cached;
  if (products.length === 0) throw new Error('the product list is empty');
  const head = Math.min(FEATURED.length, products.length);
  const tail = shuffle(
    rngFor('popularity', seed),
    Array.from({ length: products.length - head }, (_, i) => head + i),
  );
  const order = [...Array.from({ length: head }, (_, i) => i), ...tail];
  const weights = new Array<number>(products.length).fill(0);
  order.forEach((productIndex, rank) => {
    weights[productIndex] = 1 / (rank + 2);
  });
  const picker = new WeightedPicker(weights);
  const share = Float64Array.from(weights, (w) => w / picker.total);
  const p = { picker, share };
  bySeed.set(seed, p);
  return p;
}

/** Weekday factors (Sunday first): Saturday is the big shopping day; they average to 1 over a week. */
const WEEKDAY_FACTOR = [1.05, 0.85, 0.85, 0.9, 0.95, 1.1, 1.3] as const;

/** Relative traffic by hour of day: a lunch peak and a larger after-work peak. */
const HOUR_WEIGHT = [1, 1, 1, 1, 1, 1, 3, 3, 5, 7, 9, 11, 10, 8, 7, 7, 8, 11, 13, 11, 7, 4, 2, 1] as const;

/** Lines per receipt, 1 to 15. */
const SUPERMARKET_BASKET = new WeightedPicker([18, 15, 13, 11, 9, 8, 6, 5, 4, 3, 2.5, 2, 1.5, 1, 1]);
const KIOSK_BASKET = new WeightedPicker([40, 25, 14, 8, 5, 3, 2, 1, 1, 0.5, 0.2, 0.1, 0.1, 0.05, 0.05]);

const PAYMENT_METHODS: readonly DemoPaymentMethod[] = ['dinheiro', 'debito', 'credito', 'pix', 'voucher', 'outros'];
const SUPERMARKET_PAYMENTS = new WeightedPicker([10, 32, 30, 22, 5, 1]);
// the kiosks take no cash
const KIOSK_PAYMENTS = new WeightedPicker([0, 30, 30, 38, 1.5, 0.5]);

const RETURN_SHARE = 0.005;
const DISCOUNT_SHARE = 0.04;
const DISCOUNT_PERCENTS = [5, 10, 15, 20, 25] as const;

interface StoreProfile {
  selfService: boolean;
  /** how much this store sells relative to rowsPerStoreDay */
  sizeFactor: number;
  receiptStyle: 'sequential' | 'nfce';
  /** what the store's POS writes in the EAN column for goods without a barcode */
  noGtin: '' | 'SEM GTIN';
  uf: number;
  cnpj: string;
}

function storeProfile(seed: number, store: DemoStore): StoreProfile {
  const rng = rngFor('store-profile', seed, store.store_code);
  const selfService = store.kind === 'selfservice';
  const sizeFactor = selfService ? 0.2 + rng() * 0.1 : 0.85 + rng() * 0.3;
  const receiptStyle = rng() < 1 / 3 ? 'nfce' : 'sequential';
  const noGtin = rng() < 0.5 ? 'SEM GTIN' : '';
  return {
    selfService,
    sizeFactor,
    receiptStyle,
    noGtin,
    uf: CITY_BY_NAME.get(store.city)?.uf ?? 35,
    cnpj: makeCnpj(rng),
  };
}

/** A CNPJ (company tax id) with valid check digits, head office branch 0001. */
function makeCnpj(rng: Rng): string {
  let digits = `${String(intBetween(rng, 10_000_000, 99_999_999))}0001`;
  for (const weights of [
    [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2],
    [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2],
  ]) {
    let sum = 0;
    for (let i = 0; i < weights.length; i++) sum += (digits.charCodeAt(i) - 48) * weights[i]!;
    const r = sum % 11;
    digits += String(r < 2 ? 0 : 11 - r);
  }
  return digits;
}

/** The 44-digit NFC-e access key (chave de acesso) that some POS systems use as the receipt id. */
function nfceKey(uf: number, date: string, cnpj: string, series: number, number: number, code: number): string {
  const yymm = date.slice(2, 4) + date.slice(5, 7);
  const body = `${uf}${yymm}${cnpj}65${String(series).padStart(3, '0')}${String(number).padStart(9, '0')}1${String(code).padStart(8, '0')}`;
  let sum = 0;
  let weight = 2;
  for (let i = body.length - 1; i >= 0; i--) {
    sum += (body.charCodeAt(i) - 48) * weight;
    weight = weight === 9 ? 2 : weight + 1;
  }
  const r = sum % 11;
  return `${body}${r < 2 ? 0 : 11 - r}`;
}

/** Expected quantity (thousandths) per sales line of the product. */
function meanLineQuantity(p: DemoProduct): number {
  if (p.unit === 'UN') return MEAN_UNIT_QUANTITY_MILLI;
  const [lo, hi] = gramsOf(p.category);
  return (lo + hi) / 2;
}

const ceilTo = (x: number, step: number) => Math.ceil(x / step) * step;

/**
 * Levels follow each product's expected sales at the store. The stock is what the shelves hold before the demo's
 * days of sales: a level between the reorder point and the target (about one in twenty at or below its reorder
 * point) plus what those days are expected to sell, so that once they are loaded most shelves are where a store keeps
 * them and some run low and raise alerts and restock orders — not a catalogue gone below zero.
 */
function generateStock(o: ResolvedDemoOptions, stores: DemoStore[], products: DemoProduct[]): DemoStock[] {
  const pop = popularity(products, o.seed);
  const stock: DemoStock[] = [];
  for (const store of stores) {
    const profile = storeProfile(o.seed, store);
    const linesPerDay = o.rowsPerStoreDay * profile.sizeFactor;
    const rng = rngFor('stock', o.seed, store.store_code);
    products.forEach((p, i) => {
      const step = p.unit === 'UN' ? 1000 : 100;
      const demand = linesPerDay * pop.share[i]! * meanLineQuantity(p);
      const reorder = Math.max(p.unit === 'UN' ? 2000 : 1000, ceilTo(demand * (p.lead_time_days + 1), step));
      const target = Math.max(reorder + p.pack_size * 1000, ceilTo(demand * (p.lead_time_days + 7), step));
      const level =
        rng() < 0.05
          ? step * intBetween(rng, 0, reorder / step)
          : reorder + step * intBetween(rng, 1, (target - reorder) / step);
      const onHand = level + ceilTo(demand * o.days, step);
      stock.push({
        store_code: store.store_code,
        sku: p.sku,
        on_hand_milli: onHand,
        reorder_point_milli: reorder,
        target_level_milli: target,
      });
    });
  }
  return stock;
}

// ---------------------------------------------------------------------------------------------------------------
// Sales

interface DayPlan {
  rng: Rng;
  rows: number;
  storeCode: string;
  date: string;
  products: readonly DemoProduct[];
  popularity: Popularity;
  profile: StoreProfile;
}

/** Opening hours as [first hour, hour of closing). */
function openingHours(profile: StoreProfile, date: string): [number, number] {
  if (profile.selfService) return [6, 24];
  return weekday(date) === 0 ? [8, 20] : [7, 22];
}

function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/**
 * Plans the receipts first (their sizes and sorted times, in typed arrays), then yields lines one by one: files of
 * millions of rows stream without holding the rows in memory, and receipts still come in time order.
 */
function* dayLines(plan: DayPlan): Generator<DemoSaleRow> {
  const { rng, products, profile, storeCode, date } = plan;
  const basket = profile.selfService ? KIOSK_BASKET : SUPERMARKET_BASKET;
  const sizes: number[] = [];
  for (let left = plan.rows; left > 0; ) {
    const n = Math.min(basket.next(rng) + 1, left);
    sizes.push(n);
    left -= n;
  }

  const [open, close] = openingHours(profile, date);
  const hours = new WeightedPicker(HOUR_WEIGHT.slice(open, close));
  const times = new Int32Array(sizes.length);
  for (let r = 0; r < times.length; r++) {
    times[r] = (open + hours.next(rng)) * 3600 + Math.floor(rng() * 3600);
  }
  times.sort();

  const payments = profile.selfService ? KIOSK_PAYMENTS : SUPERMARKET_PAYMENTS;
  const picked: number[] = [];
  for (let r = 0; r < sizes.length; r++) {
    const t = times[r]!;
    const soldAt = `${TWO_DIGITS[Math.floor(t / 3600)]}:${TWO_DIGITS[Math.floor(t / 60) % 60]}:${TWO_DIGITS[t % 60]}`;
    const receiptId =
      profile.receiptStyle === 'nfce'
        ? nfceKey(profile.uf, date, profile.cnpj, intBetween(rng, 1, 12), r + 1, intBetween(rng, 0, 99_999_999))
        : String(r + 1).padStart(6, '0');
    const payment = PAYMENT_METHODS[payments.next(rng)]!;
    picked.length = 0;
    const lines = sizes[r]!;
    for (let line = 1; line <= lines; line++) {
      // a basket rarely holds the same product on two lines
      let index = plan.popularity.picker.next(rng);
      for (let retry = 0; retry < 3 && picked.includes(index); retry++) index = plan.popularity.picker.next(rng);
      picked.push(index);
      const p = products[index]!;

      let quantity: number;
      if (p.unit === 'UN') quantity = UNIT_QUANTITIES[UNIT_QUANTITY_PICKER.next(rng)]! * 1000;
      else {
        const [lo, hi] = gramsOf(p.category);
        // the mean of two draws: weights cluster around the middle of the range
        quantity = lo + Math.floor(((rng() + rng()) / 2) * (hi - lo + 1));
        // sales rows carry no unit, so a weight must not look like a whole count of units (1.000 would read as 1)
        if (quantity % 1000 === 0) quantity += 5;
      }
      const isReturn = rng() < RETURN_SHARE;
      if (isReturn) quantity = -quantity;
      const gross = divRound(quantity * p.price_cents, 1000);
      let discount = 0;
      if (!isReturn && rng() < DISCOUNT_SHARE) {
        discount = divRound(gross * DISCOUNT_PERCENTS[Math.floor(rng() * DISCOUNT_PERCENTS.length)]!, 100);
      }
      yield {
        store_code: storeCode,
        business_date: date,
        receipt_id: receiptId,
        line_no: line,
        sold_at: soldAt,
        sku: p.sku,
        ean: p.ean === '' ? profile.noGtin : p.ean,
        description: p.name,
        quantity_milli: quantity,
        unit_price_cents: p.price_cents,
        discount_cents: discount,
        total_cents: gross - discount,
        payment_method: payment,
      };
    }
  }
}

/** One store-day's sales lines, in receipt order. Depends only on (options, master data, store, date). */
export function* iterateSalesRows(
  opts: DemoOptions,
  master: DemoMasterData,
  storeCode: string,
  date: string,
): Generator<DemoSaleRow> {
  const o = resolveOptions(opts);
  if (!isValidIsoDate(date)) throw new RangeError(`business date must be YYYY-MM-DD, got ${date}`);
  const store = master.stores.find((s) => s.store_code === storeCode);
  if (!store) throw new Error(`store ${storeCode} is not in the demo master data`);
  const profile = storeProfile(o.seed, store);
  const rng = rngFor('sales', o.seed, storeCode, date);
  const rows = Math.max(
    1,
    Math.round(o.rowsPerStoreDay * profile.sizeFactor * WEEKDAY_FACTOR[weekday(date)]! * (0.92 + rng() * 0.16)),
  );
  yield* dayLines({
    rng,
    rows,
    storeCode,
    date,
    products: master.products,
    popularity: popularity(master.products, o.seed),
    profile,
  });
}

export function salesRows(opts: DemoOptions, master: DemoMasterData, storeCode: string, date: string): DemoSaleRow[] {
  return [...iterateSalesRows(opts, master, storeCode, date)];
}

export interface LargeDayOptions {
  rows: number;
  seed: number;
  storeCode: string;
  date: string;
  products: readonly DemoProduct[];
}

/** Exactly `rows` lines for one supermarket-day over any product list: the benchmarks' input. */
export function* iterateLargeDay(o: LargeDayOptions): Generator<DemoSaleRow> {
  if (!Number.isInteger(o.rows) || o.rows < 0) throw new RangeError(`rows must be a whole number, got ${o.rows}`);
  if (!isValidIsoDate(o.date)) throw new RangeError(`business date must be YYYY-MM-DD, got ${o.date}`);
  const profile: StoreProfile = {
    selfService: false,
    sizeFactor: 1,
    receiptStyle: 'sequential',
    noGtin: 'SEM GTIN',
    uf: 35,
    cnpj: '',
  };
  yield* dayLines({
    rng: rngFor('large', o.seed, o.storeCode, o.date),
    rows: o.rows,
    storeCode: o.storeCode,
    date: o.date,
    products: o.products,
    popularity: popularity(o.products, o.seed),
    profile,
  });
}
