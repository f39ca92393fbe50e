import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, loadServeConfig } from '../../src/serve/config.js';
import { SERVE_NODE_FLAGS, serveNodeFlags } from '../../src/serve/server.js';
import { REPO_ROOT } from './chart-tools.js';
import { effective, effectiveEnv, lineage, parseInstructions, parseStages, type Stage } from './dockerfile-parse.js';

// There is no Docker engine here: these checks read the Dockerfile statically.
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { license: string; version: string };
const stages = parseStages(dockerfile);
const final = stages[stages.length - 1];
const finalChain = lineage(stages, final);

function stageNamed(name: string): Stage {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
}

function exec(args: string | undefined): string[] {
  return JSON.parse(args ?? 'null') as string[];
}

describe('dockerfile-parse', () => {
  it('joins continuations, drops comments and resolves global ARGs in FROM', () => {
    const text = 'ARG BASE=img:1\n# c\nFROM ${BASE} AS a\nRUN one \\\n  # inside\n  two\nFROM a\nUSER 5\n';
    expect(parseInstructions(text).map((i) => `${i.keyword} ${i.args}`)).toEqual(['ARG BASE=img:1', 'FROM ${BASE} AS a', 'RUN one two', 'FROM a', 'USER 5']);
    const s = parseStages(text);
    expect(s.map((x) => [x.name, x.from])).toEqual([['a', 'img:1'], ['1', 'a']]);
    expect(effective(s, s[1], 'RUN')).toBe('one two');
    expect(effective(s, s[0], 'USER')).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  it('builds on Node 20 LTS slim only', () => {
    const external = stages.filter((s) => !stages.some((o) => o.name === s.from)).map((s) => s.from);
    expect(external.length).toBeGreaterThan(0);
    for (const image of external) expect(image).toBe('node:20-bookworm-slim');
  });

  it('the default target is the runtime stage and runs as a non-root numeric user', () => {
    expect(finalChain.map((s) => s.name)).toContain('runtime');
    const user = effective(stages, final, 'USER');
    expect(user).toBeDefined();
    const uid = Number(user!.split(':')[0]);
    expect(Number.isInteger(uid)).toBe(true);
    expect(uid).toBeGreaterThanOrEqual(10000);
    // The spark variant returns to the same user after installing packages as root.
    expect(Number(effective(stages, stageNamed('spark'), 'USER')!.split(':')[0])).toBe(uid);
  });

  it('installs production dependencies only into the image', () => {
    const deps = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)));
    expect(deps).toBeDefined();
    const copies = finalChain.flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY');
    const nodeModules = copies.filter((i) => /\bnode_modules\b/.test(i.args));
    expect(nodeModules.map((i) => /--from=(\S+)/.exec(i.args)?.[1])).toEqual([deps!.name]);
    // The build stage (dev dependencies) contributes only the compiled output.
    const fromBuild = copies.filter((i) => i.args.includes('--from=build'));
    expect(fromBuild.map((i) => i.args)).toEqual(['--from=build /src/dist ./dist']);
    for (const s of finalChain) for (const i of s.instructions) if (i.keyword === 'RUN') expect(i.args).not.toMatch(/npm (ci|install)(?!.*--omit=dev)/);
  });

  it("builds the image's LMDB with the multi-process fix: the script and a tool chain are there before npm ci", () => {
    const deps = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)))!;
    const at = (test: (i: (typeof deps.instructions)[number]) => boolean): number => deps.instructions.findIndex(test);
    const install = at((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args));
    const script = at((i) => i.keyword === 'COPY' && i.args.includes('scripts/build-lmdb.mjs'));
    const tools = at((i) => i.keyword === 'RUN' && /apt-get install\b.*\bg\+\+/.test(i.args) && /\bmake\b/.test(i.args) && /\bpython3\b/.test(i.args));
    expect(script).toBeGreaterThanOrEqual(0);
    expect(tools).toBeGreaterThanOrEqual(0);
    expect(Math.max(script, tools)).toBeLessThan(install);
    expect(deps.instructions[install].args).not.toMatch(/RTREC_SKIP_LMDB_BUILD/);
  });

  it('copies what the CLI needs next to each other under /app', () => {
    expect(effective(stages, final, 'WORKDIR')).toBe('/app');
    const copied = finalChain.flatMap((s) => s.instructions).filter((i) => i.keyword === 'COPY').map((i) => i.args.split(' ').at(-1));
    for (const dest of ['./dist', './bin', './docs', './']) expect(copied).toContain(dest);
    // bin/rtrec.js loads ../dist/cli/main.js, so bin and dist must be siblings.
    expect(readFileSync(join(REPO_ROOT, 'bin', 'rtrec.js'), 'utf8')).toContain("'../dist/cli/main.js'");
    expect(exec(effective(stages, final, 'ENTRYPOINT'))).toEqual(['sh', '/app/docker-entrypoint.sh']);
    expect(copied).toContain('./docker-entrypoint.sh');
    expect(exec(effective(stages, final, 'CMD'))[0]).toBe('serve');
  });

  it('its entrypoint runs the CLI, and `serve` with the serving node flags (flags node accepts)', () => {
    const run = (...args: string[]) => spawnSync('sh', [join(REPO_ROOT, 'deploy', 'docker-entrypoint.sh'), ...args], { encoding: 'utf8', env: { ...process.env, RTREC_APP_DIR: REPO_ROOT } });
    const version = run('--version');
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const serve = run('serve', '--help');
    expect(serve.status, serve.stderr).toBe(0);
    expect(serve.stdout).toContain('--workers');
    const script = readFileSync(join(REPO_ROOT, 'deploy', 'docker-entrypoint.sh'), 'utf8');
    for (const flag of SERVE_NODE_FLAGS) expect(script).toContain(flag);
  });

  it('gives `serve` the flags serveNodeFlags picks: without single-threaded GC when there are online updates', () => {
    // A stand-in app whose CLI prints the node flags it was started with.
    const app = mkdtempSync(join(tmpdir(), 'rtrec-entrypoint-'));
    try {
      mkdirSync(join(app, 'bin'));
      writeFileSync(join(app, 'bin', 'rtrec.js'), 'console.log(JSON.stringify(process.execArgv));\n');
      const flags = (env: Record<string, string>, ...args: string[]): string[] => {
        const res = spawnSync('sh', [join(REPO_ROOT, 'deploy', 'docker-entrypoint.sh'), ...args], { encoding: 'utf8', env: { ...process.env, RTREC_MODEL_DIR: '', ...env, RTREC_APP_DIR: app } });
        expect(res.status, res.stderr).toBe(0);
        return JSON.parse(res.stdout) as string[];
      };
      expect(flags({}, 'serve')).toEqual(serveNodeFlags(false));
      expect(flags({}, 'serve', '--store', 'lmdb:///s', '--model-dir', 'models/x')).toEqual(serveNodeFlags(true));
      expect(flags({}, 'serve', '--model-dir=models/x')).toEqual(serveNodeFlags(true));
      expect(flags({ RTREC_MODEL_DIR: 'models/x' }, 'serve')).toEqual(serveNodeFlags(true));
      expect(flags({ RTREC_MODEL_DIR: 'models/x' }, 'train')).toEqual([]);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('has a health check on /healthz that needs nothing but node', () => {
    const check = effective(stages, final, 'HEALTHCHECK');
    expect(check).toBeDefined();
    const cmd = exec(check!.replace(/^.*?CMD\s+/, ''));
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain('/healthz');
    expect(check).not.toMatch(/curl|wget/);
  });

  it('sets server settings the server knows, and they form a valid configuration', () => {
    const env = effectiveEnv(stages, final);
    const known = new Set<string>([...Object.values(CONFIG_ENV), 'RTREC_NO_PROGRESS']);
    const rtrec = [...env.keys()].filter((k) => k.startsWith('RTREC_'));
    expect(rtrec.length).toBeGreaterThan(0);
    for (const key of rtrec) expect(known).toContain(key);
    const config = loadServeConfig({ env: Object.fromEntries(env) });
    expect(config.host).toBe('0.0.0.0');
    expect(effective(stages, final, 'EXPOSE')).toBe(String(config.port));
  });

  it('holds no secrets: no secret-like variables, arguments or copied credential files', () => {
    for (const ins of parseInstructions(dockerfile)) {
      if (ins.keyword === 'ENV' || ins.keyword === 'ARG') expect(ins.args, `line ${ins.line}`).not.toMatch(/PASSWORD|SECRET|TOKEN|API_KEY|RTREC_API_KEYS/i);
      if (ins.keyword === 'COPY' || ins.keyword === 'ADD') expect(ins.args, `line ${ins.line}`).not.toMatch(/\.env\b|\.npmrc|\.pem\b|id_rsa|\.key\b/);
      expect(ins.keyword).not.toBe('ADD');
    }
    for (const pattern of ['.env', '.npmrc', '.git', 'node_modules', '.tools', '*.pem']) expect(dockerignore).toContain(pattern);
  });

  it('copies only sources that exist and that .dockerignore lets through', () => {
    // Docker's rule: the last pattern matching a path decides; `!pattern` lets it through again.
    const plain = dockerignore.filter((p) => !/[*?[]/.test(p));
    const excludedBy = (src: string): string | undefined => {
      let by: string | undefined;
      for (const p of plain) {
        const pattern = p.replace(/^!/, '');
        if (src === pattern || src.startsWith(`${pattern}/`)) by = p.startsWith('!') ? undefined : p;
      }
      return by;
    };
    const sources = parseInstructions(dockerfile)
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(' ').slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(join(REPO_ROOT, src)), src).toBe(true);
      expect(excludedBy(src), `${src} is excluded by .dockerignore`).toBeUndefined();
    }
  });

  it('labels the image with the OCI annotations', () => {
    const labels = finalChain.flatMap((s) => s.instructions).filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'version', 'revision', 'created', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
    expect(labels).toContain(`org.opencontainers.image.licenses="${pkg.license}"`);
    expect(dockerfile).toContain(`ARG VERSION=${pkg.version}`);
  });
});
