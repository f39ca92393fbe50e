/**
 * @module `rtrec events export [--since ISO] [--store URL] --out FILE`: writes the store's event log
 * as a canonical interactions CSV (see src/events/event-export.ts) so the next training learns from
 * today's behaviour. Weights come from `--event-weights` or `RTREC_EVENT_WEIGHTS`, as in `rtrec serve`.
 * Beside the CSV it records which part of the log the file holds (`<out>.rtrec-events.json`, see
 * src/events/export-sidecar.ts), so a model trained on it does not fold those events in again.
 */
import type { Command } from 'commander';
import { RecError } from '../../core/errors.js';
import { parseTimestamp } from '../../data/field-parsers.js';
import { EVENT_WEIGHTS_ENV, loadEventConfig } from '../../events/event-config.js';
import { exportEventsCsv } from '../../events/event-export.js';
import { removeExportSidecar, sidecarPath, writeExportSidecar } from '../../events/export-sidecar.js';
import { DEFAULT_STORE_URL, openStore, resolveStoreUrl } from '../../store/open-store.js';
import { emit } from '../kit.js';

interface ExportFlags {
  out: string;
  since?: string;
  store?: string;
  eventWeights?: string;
  header: boolean;
  types?: string;
  json?: boolean;
}

export function registerEventsCommand(program: Command): void {
  const events = program.command('events').description('Work with the behaviour events logged by POST /v1/events');
  events
    .command('export')
    .description('Write the event log as an interactions CSV (userId,itemId,rating,timestamp; rating = latest rating or summed event weights) for training')
    .requiredOption('--out <file>', 'CSV file to write')
    .option('--since <time>', 'only events at or after this ISO-8601 time')
    .option('--store <url>', `online store URL (default $RTREC_STORE or ${DEFAULT_STORE_URL})`)
    .option('--event-weights <pairs>', `event type weights, e.g. "view=1,click=2,purchase=5,dislike=-5" (default $${EVENT_WEIGHTS_ENV} over the built-in weights)`)
    .option('--types <list>', 'only these event types become rows, comma-separated (e.g. "rating" for a model trained on ratings); dislikes always remove their pair')
    .option('--no-header', 'leave out the header row (to append to a base data file)')
    .option('--json', 'print JSON')
    .action(async (flags: ExportFlags) => {
      const config = flags.eventWeights === undefined ? loadEventConfig(process.env[EVENT_WEIGHTS_ENV]) : loadEventConfig(flags.eventWeights, '--event-weights');
      let sinceTs: number | undefined;
      if (flags.since !== undefined) {
        // Read as the data loader and POST /v1/events read times: UTC without a zone, no impossible dates.
        const seconds = /^\d{4}-\d{2}-\d{2}/.test(flags.since) ? parseTimestamp(flags.since) : 'not a date';
        if (typeof seconds === 'string') throw new RecError('RTREC_ERR_CONFIG_INVALID', `--since must be an ISO-8601 time, got ${JSON.stringify(flags.since)}`);
        sinceTs = Math.round(seconds * 1000);
      }
      let types: Set<string> | undefined;
      if (flags.types !== undefined) {
        types = new Set(flags.types.split(',').map((t) => t.trim()).filter((t) => t !== ''));
        const unknown = [...types].filter((t) => !Object.hasOwn(config.weights, t));
        if (types.size === 0 || unknown.length > 0) throw new RecError('RTREC_ERR_CONFIG_INVALID', `--types must list configured event types (${Object.keys(config.weights).sort().join(', ')}), got ${JSON.stringify(flags.types)}`);
      }
      const store = await openStore(resolveStoreUrl(flags.store), { mustExist: true });
      try {
        // The log's length is not known up front, so there is no bar; the summary counts the events.
        // The identity names this store's log in the record, so publish applies the cut-off only to this store.
        const storeId = await store.storeId({ create: true });
        // A failed export leaves the previous file and its record as they were. Once the new file is
        // complete, the old record goes before the file is replaced: a record never describes another
        // export (were the process to stop before the new record, the file has none: no watermark).
        const report = await exportEventsCsv(store, flags.out, config, { sinceTs, header: flags.header, ...(types ? { types } : {}), beforeReplace: () => removeExportSidecar(flags.out) });
        await writeExportSidecar(flags.out, { through: report.through, ...(sinceTs === undefined ? {} : { since: sinceTs }), ...(types ? { types } : {}), store: store.description, ...(storeId === undefined ? {} : { storeId }), events: report.events, rows: report.rows });
        const record = sidecarPath(flags.out);
        emit(Boolean(flags.json), { ...report, out: flags.out, store: store.description, record }, () => {
          const lines = [`${report.events} events → ${report.rows} rows in ${flags.out} (${report.disliked} disliked pairs left out)`];
          if (report.through === null) lines.push(`no events read: ${record} records that the file holds none of the log`);
          else lines.push(`log read through position ${report.through}${sinceTs === undefined ? '' : ` (events since ${flags.since})`}${types ? ` (types ${[...types].join(',')} and dislikes)` : ''}: recorded in ${record}, so a model trained on ${flags.out} does not fold these events in again`);
          return lines.join('\n');
        });
      } finally {
        await store.close();
      }
    });
}
