// `npm run bench`: every benchmark, one after the other, each printing its markdown table with in-run baselines.
const benches = [
  './csv.bench.ts',
  './ingest.bench.ts',
  './reports.bench.ts',
  './queries.bench.ts',
  './checkout.bench.ts',
];
for (const b of benches) {
  const mod = (await import(b)) as { run(): Promise<string> };
  process.stdout.write(`\n## ${b.replace('./', '').replace('.bench.ts', '')}\n\n${await mod.run()}\n`);
}
