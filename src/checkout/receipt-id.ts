// Receipt numbers of self-checkout purchases.
import { randomBytes } from 'node:crypto';

// No per-store counter row (every checkout of the store would write it). Time first, then this process's count,
// then this process's random tag against another server's same millisecond and count: new receipts sort after the
// earlier ones, so the unique indexes that lead with the receipt (checkouts, sales lines) grow at their right edge
// instead of dirtying a page at a random place per receipt, which every commit then writes to the log. The tag is
// drawn once: random bytes per receipt cost more than the rest of the id.
// The prefix keeps them apart from the receipt numbers of sales files (tickets are counted per source anyway: see TICKETS_OF_LINES).
const processTag = randomBytes(3).toString('hex').toUpperCase();
let receiptCount = 0;

/** `CK-` and 18 characters of [0-9A-Z]; later calls sort after earlier ones in this process. */
export const newReceiptId = () =>
  `CK-${Date.now().toString(36).padStart(9, '0').toUpperCase()}${(receiptCount++ % 46656).toString(36).padStart(3, '0').toUpperCase()}${processTag}`;
