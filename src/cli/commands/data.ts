/**
 * @module `rtrec data`: `download <name>` fetches a MovieLens release, `info <path>` summarises a data
 * folder or file, `generate` (from data-generate.ts) writes synthetic data. Also exports the shared `--format/--user-col/...` load flags so every command that
 * reads data (train, split, evaluate) offers them the same way.
 */
import type { Command } from 'commander';
import { createProgress, type Progress } from '../../core/progress.js';
import { summarizeDataset, type DatasetSummary } from '../../data/dataset-info.js';
import { detectFormat } from '../../data/detect-format.js';
import { DOWNLOADABLE_NAMES, downloadDataset, type DownloadProgress } from '../../data/download.js';
import { TEXT_ENCODINGS, type TextEncodingName } from '../../data/line-reader.js';
import { loadDataset } from '../../data/load-dataset.js';
import { DATA_FORMATS, type DataFormat, type LoadOptions, type LoadProgress } from '../../data/load-options.js';
import { emit, formatNumber, parseChoice } from '../kit.js';
import { registerDataGenerateCommand } from './data-generate.js';

/** Files smaller than this load too fast for a progress bar to help. */
const PROGRESS_MIN_BYTES = 8 << 20;

/** Parsed values of the flags added by addLoadOptions (commander's camelCase names). */
export interface LoadFlags {
  format?: DataFormat;
  userCol?: string;
  itemCol?: string;
  ratingCol?: string;
  timestampCol?: string;
  items?: string;
  itemIdCol?: string;
  encoding?: TextEncodingName;
}

/** Adds the data-loading flags to `cmd` and returns it. */
export function addLoadOptions(cmd: Command): Command {
  return cmd
    .option('--format <format>', `input format: ${DATA_FORMATS.join(', ')} (default: detect from folder contents or extension)`, parseChoice('--format', DATA_FORMATS))
    .option('--user-col <name>', 'column (or JSON key) holding user ids (default: userId, user_id, user or uid)')
    .option('--item-col <name>', 'column holding item ids (default: itemId, item_id, item, movieId or iid)')
    .option('--rating-col <name>', 'column holding ratings (default: rating or score; none means implicit feedback)')
    .option('--timestamp-col <name>', 'column holding unix seconds (or ms, µs, ns: read by size) or ISO-8601 times (default: timestamp, time or ts)')
    .option('--items <file>', 'item metadata CSV/TSV with an id column and any other columns (genres split on |)')
    .option('--item-id-col <name>', 'id column of the --items file (default: the item column name, an alias, or the first column)')
    .option('--encoding <encoding>', `encoding of generic files: ${TEXT_ENCODINGS.join(', ')} (default utf-8)`, parseChoice('--encoding', TEXT_ENCODINGS));
}

/**
 * LoadOptions from parsed flags, with a progress bar on stderr for large files (shown only on a terminal).
 * @param flags commander's parsed options of a command set up with addLoadOptions (other keys are ignored).
 */
export function loadOptionsFrom(flags: object): LoadOptions {
  const opts = flags as LoadFlags;
  return {
    format: opts.format,
    userCol: opts.userCol,
    itemCol: opts.itemCol,
    ratingCol: opts.ratingCol,
    timestampCol: opts.timestampCol,
    itemsFile: opts.items,
    itemIdCol: opts.itemIdCol,
    encoding: opts.encoding,
    onProgress: fileProgressBars(),
  };
}

/** One bar per large file, labelled with the file name and counting bytes. */
function fileProgressBars(): (progress: LoadProgress) => void {
  let file = '';
  let bar: Progress | null = null;
  return ({ file: current, bytesRead, totalBytes }) => {
    if (current !== file) {
      bar?.stop();
      file = current;
      bar = totalBytes >= PROGRESS_MIN_BYTES ? createProgress(`reading ${current.split(/[\\/]/).pop() ?? current}`, totalBytes) : null;
    }
    bar?.update(bytesRead);
    if (bytesRead >= totalBytes) bar?.stop();
  };
}

interface DownloadFlags {
  dir?: string;
  baseUrl?: string;
  json?: boolean;
}

type InfoFlags = LoadFlags & { json?: boolean };

export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('download MovieLens data sets and inspect data files');

  data
    .command('download')
    .description(`download and unpack a data set (checksums verified): ${DOWNLOADABLE_NAMES.join(', ')}`)
    .argument('<name>', 'data set name, e.g. movielens-100k')
    .option('--dir <dir>', 'folder to put data sets in (default: $RTREC_DATA_DIR or ./data)')
    .option('--base-url <url>', 'where the archives live (default: $RTREC_DATA_BASE_URL or GroupLens)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: DownloadFlags) => {
      const destRoot = opts.dir ?? process.env.RTREC_DATA_DIR ?? 'data';
      const bars = downloadBars();
      let result;
      try {
        result = await downloadDataset(name, destRoot, { baseUrl: opts.baseUrl, onProgress: bars.update });
      } finally {
        bars.stop();
      }
      const done = result;
      emit(opts.json === true, done, () =>
        done.skipped
          ? `${done.name}: a valid copy is already in ${done.path}; skipped`
          : `${done.name}: downloaded ${formatBytes(done.archiveBytes)} (md5 ${done.md5} verified) into ${done.path}` +
            (done.replaced ? ' (replaced an incomplete or modified copy)' : ''),
      );
    });

  addLoadOptions(
    data
      .command('info')
      .description('summarise a data folder or file: users, items, interactions, density, ratings, time range, item fields')
      .argument('<path>', 'MovieLens folder or .csv/.tsv/.jsonl interaction file'),
  )
    .option('--json', 'print the summary as JSON')
    .action(async (path: string, opts: InfoFlags) => {
      const options = loadOptionsFrom(opts);
      const { format } = await detectFormat(path, options.format);
      const summary = summarizeDataset(await loadDataset(path, options));
      emit(opts.json === true, { format, ...summary }, () => formatSummary(format, summary));
    });

  registerDataGenerateCommand(data);
}

function formatSummary(format: DataFormat, s: DatasetSummary): string {
  const rows: [string, string][] = [
    ['source', s.source],
    ['format', format],
    ['users', String(s.users)],
    ['items', String(s.items)],
    ['interactions', String(s.interactions)],
    ['density', s.density.toPrecision(4)],
    ['ratings', s.rating === null ? 'implicit' : `${formatNumber(s.rating.min)} to ${formatNumber(s.rating.max)}, mean ${formatNumber(s.rating.mean)}`],
    ['time range', s.time === null ? 'none' : `${s.time.minIso} to ${s.time.maxIso}`],
    ['item fields', s.itemMetadataFields === null ? 'none' : `${s.itemMetadataFields.join(', ')} (${s.itemsWithMetadata} of ${s.items} items)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function downloadBars(): { update: (p: DownloadProgress) => void; stop: () => void } {
  let phase = '';
  let bar: Progress | null = null;
  return {
    update(p) {
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = createProgress(p.phase === 'download' ? 'downloading' : 'extracting', p.total);
      }
      bar?.update(p.done);
    },
    stop() {
      bar?.stop();
    },
  };
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
