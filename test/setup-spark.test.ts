/**
 * scripts/setup-spark.sh against fake interpreters, in a copy of the repository layout it needs
 * (the script and jobs/spark/requirements*.txt), so the real jobs/spark/.venv is never touched: the
 * Python version it accepts, a Python without ensurepip (Debian/Ubuntu without python3-venv), and a
 * venv left without pip by such a run.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');

/**
 * A base Python: version $FAKE_PY, ensurepip unless FAKE_ENSUREPIP=0. `-m venv DIR` puts the venv
 * Python below into DIR/bin; without ensurepip it then fails, leaving DIR/bin/python without pip,
 * as Debian's does.
 */
const BASE_PYTHON = `#!/usr/bin/env python3
import os, platform, shutil, sys
args = sys.argv[1:]
has_ensurepip = os.environ.get("FAKE_ENSUREPIP", "1") == "1"
if args[:1] == ["-c"]:
    if "ensurepip" in args[1]:
        sys.exit(0 if has_ensurepip else 1)
    sys.version_info = tuple(int(x) for x in os.environ["FAKE_PY"].split("."))
    platform.python_version = lambda: os.environ["FAKE_PY"]
    exec(args[1])
    sys.exit(0)
if args == ["--version"]:
    print("Python " + os.environ["FAKE_PY"])
    sys.exit(0)
if args[:2] == ["-m", "venv"]:
    os.makedirs(os.path.join(args[2], "bin"))
    shutil.copy(os.environ["FAKE_VENV_PYTHON"], os.path.join(args[2], "bin", "python"))
    if not has_ensurepip:
        open(os.path.join(args[2], ".no-pip"), "w").close()
        sys.exit("Error: ensurepip is not available")
    sys.exit(0)
sys.exit(f"fake python: unexpected {args}")
`;

/** A venv's Python: pip works unless .no-pip is in the venv; `pip install` makes bin/spark-submit. */
const VENV_PYTHON = `#!/usr/bin/env python3
import os, sys
venv = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = sys.argv[1:]
if args[:2] == ["-m", "pip"]:
    if os.path.exists(os.path.join(venv, ".no-pip")):
        sys.exit("No module named pip")
    if "install" in args:
        submit = os.path.join(venv, "bin", "spark-submit")
        with open(submit, "w") as fh:
            fh.write("#!/bin/sh\\n")
        os.chmod(submit, 0o755)
    sys.exit(0)
if args[:1] == ["-c"] and "pyspark" in args[1]:
    print("4.0.5")
    sys.exit(0)
sys.exit(f"fake venv python: unexpected {args}")
`;

let dir: string;
let fakes: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-setup-spark-'));
  fakes = join(dir, 'fakes');
  await mkdir(fakes);
  const scripts: [string, string][] = [
    ['python', BASE_PYTHON],
    ['venv-python', VENV_PYTHON],
    ['java', `#!/bin/sh\necho 'openjdk version "17.0.2" 2024-01-16' >&2\n`],
  ];
  for (const [name, text] of scripts) {
    await writeFile(join(fakes, name), text);
    await chmod(join(fakes, name), 0o755);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh copy of what the script reads: scripts/setup-spark.sh and jobs/spark/requirements*.txt. */
async function checkout(name: string): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'scripts'), { recursive: true });
  await mkdir(join(root, 'jobs', 'spark'), { recursive: true });
  await copyFile(join(repo, 'scripts', 'setup-spark.sh'), join(root, 'scripts', 'setup-spark.sh'));
  for (const file of ['requirements.txt', 'requirements-test.txt']) await copyFile(join(repo, 'jobs', 'spark', file), join(root, 'jobs', 'spark', file));
  return root;
}

function setup(root: string, python: { version: string; ensurepip: boolean }): Promise<{ code: number; output: string }> {
  const env = {
    PATH: `${fakes}:${process.env.PATH ?? ''}`,
    FAKE_PY: python.version,
    FAKE_ENSUREPIP: python.ensurepip ? '1' : '0',
    FAKE_VENV_PYTHON: join(fakes, 'venv-python'),
  };
  return new Promise((done) => {
    execFile('bash', [join(root, 'scripts', 'setup-spark.sh'), '--python', join(fakes, 'python')], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe('scripts/setup-spark.sh', () => {
  it('creates the venv with a working Python, and a second run only re-checks', async () => {
    const root = await checkout('fresh');
    const first = await setup(root, { version: '3.11.7', ensurepip: true });
    expect(first.output).toContain('ready: PySpark 4.0.5');
    expect(first.code).toBe(0);
    const second = await setup(root, { version: '3.11.7', ensurepip: true });
    expect(second.code).toBe(0);
    expect(second.output).toContain('virtual environment exists');
    expect(second.output).toContain('requirements already installed');
  });

  it('refuses Python 3.9: the pinned numpy needs 3.10', async () => {
    const root = await checkout('py39');
    const { code, output } = await setup(root, { version: '3.9.18', ensurepip: true });
    expect(code).not.toBe(0);
    expect(output).toContain('needs Python 3.10 or later');
    expect(existsSync(join(root, 'jobs', 'spark', '.venv'))).toBe(false);
  });

  it('without ensurepip names python3-venv and leaves no venv behind', async () => {
    const root = await checkout('no-ensurepip');
    const { code, output } = await setup(root, { version: '3.11.7', ensurepip: false });
    expect(code).not.toBe(0);
    expect(output).toContain('python3-venv');
    expect(existsSync(join(root, 'jobs', 'spark', '.venv'))).toBe(false);
  });

  it('makes a venv without pip (left by a run without ensurepip) again', async () => {
    const root = await checkout('broken-venv');
    const venv = join(root, 'jobs', 'spark', '.venv');
    await mkdir(join(venv, 'bin'), { recursive: true });
    await copyFile(join(fakes, 'venv-python'), join(venv, 'bin', 'python'));
    await writeFile(join(venv, '.no-pip'), '');
    const { code, output } = await setup(root, { version: '3.11.7', ensurepip: true });
    expect(output).toContain('creating it again');
    expect(code).toBe(0);
    expect(existsSync(join(venv, '.no-pip'))).toBe(false);
    expect(existsSync(join(venv, 'bin', 'spark-submit'))).toBe(true);
  });
});
