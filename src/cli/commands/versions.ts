/**
 * @module `rtrec versions list|activate <v>|rollback|prune --keep N`: inspect and switch the
 * published versions of an online store. Every switch is one atomic pointer change; running servers
 * pick it up within a second.
 */
import type { Command } from 'commander';
import { DEFAULT_RETIRED_GRACE_MS, type OnlineStore, type PruneResult, type VersionRecord } from '../../store/online-store.js';
import { DEFAULT_STORE_URL, openStore, resolveStoreUrl } from '../../store/open-store.js';
import { emit, formatTable, parseIntOption } from '../kit.js';

interface StoreFlags {
  store?: string;
  json?: boolean;
}

export interface VersionListing {
  readonly active: number | null;
  readonly versions: readonly VersionRecord[];
}

const STORE_HELP = `online store URL (default $RTREC_STORE or ${DEFAULT_STORE_URL})`;

export function registerVersionsCommand(program: Command): void {
  const versions = program.command('versions').description('List, activate, roll back and prune the published versions of an online store');
  versions
    .command('list')
    .description('Show every version with its status and sizes; * marks the active one')
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print JSON')
    .action(async (flags: StoreFlags) => {
      const listing = await withStore(flags, listVersions);
      emit(Boolean(flags.json), listing, () => formatListing(listing));
    });
  versions
    .command('activate <version>')
    .description('Make a ready version the active one')
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print JSON')
    .action(async (version: string, flags: StoreFlags) => {
      const v = parseIntOption('<version>', 1)(version);
      const record = await withStore(flags, (s) => s.activate(v));
      emit(Boolean(flags.json), { active: record.version }, () => `version ${record.version} is now active`);
    });
  versions
    .command('rollback')
    .description('Activate the version that was active before the current one (among older ready versions)')
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print JSON')
    .action(async (flags: StoreFlags) => {
      const res = await withStore(flags, (s) => s.rollback());
      emit(Boolean(flags.json), res, () => `rolled back from version ${res.from} to version ${res.to}`);
    });
  versions
    .command('prune')
    .description('Delete all but the newest N ready versions (the active one is always kept), any failed or abandoned ones, and data left under deleted versions')
    .requiredOption('--keep <n>', 'ready versions to keep (at least 1)', parseIntOption('--keep', 1))
    .option('--grace <seconds>', 'also keep versions that stopped being active less than this long ago (servers may still be switching away from them)', parseIntOption('--grace', 0), DEFAULT_RETIRED_GRACE_MS / 1000)
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print JSON')
    .action(async (flags: StoreFlags & { keep: number; grace: number }) => {
      const res = await withStore(flags, (s) => s.prune(flags.keep, { retiredGraceMs: flags.grace * 1000 }));
      emit(Boolean(flags.json), res, () => formatPrune(res));
    });
}

/** Opens the store named by the flags, runs `fn`, closes the store. */
export async function withStore<T>(flags: StoreFlags, fn: (store: OnlineStore) => Promise<T>): Promise<T> {
  const store = await openStore(resolveStoreUrl(flags.store), { mustExist: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function listVersions(store: OnlineStore): Promise<VersionListing> {
  const [active, versions] = await Promise.all([store.activeVersion(), store.listVersions()]);
  return { active, versions };
}

export function formatPrune(res: PruneResult): string {
  let text = `deleted ${res.deleted.length ? res.deleted.join(', ') : 'nothing'}; kept ${res.kept.join(', ') || 'nothing'}`;
  // Only when there was some: data written into versions after they were deleted (see OnlineStore.cleanup).
  if (res.orphans.length) text += `; removed data left under deleted version${res.orphans.length > 1 ? 's' : ''} ${res.orphans.join(', ')}`;
  // The sweep is best effort: the versions above were pruned all the same, so the command succeeds.
  if (res.sweepError !== undefined) text += `\nwarning: could not look for data left under deleted versions (the next prune tries again): ${res.sweepError}`;
  return text;
}

export function formatListing(listing: VersionListing): string {
  if (listing.versions.length === 0) return 'no versions published yet (run rtrec publish)';
  const rows = listing.versions.map((r) => [
    `${r.version === listing.active ? '*' : ' '}${r.version}`,
    r.status,
    r.createdAt.replace('T', ' ').slice(0, 19),
    r.counts?.u ?? '',
    r.counts?.c ?? '',
    String(r.meta.modelType ?? ''),
    r.error ?? '',
  ]);
  return formatTable(['version', 'status', 'created (UTC)', 'users', 'items', 'model', 'note'], rows);
}
