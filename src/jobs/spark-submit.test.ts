import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateSpark, parseJavaVersion, parseSparkConf, SPARK_JOB_SCRIPT, SPARK_UNAVAILABLE, sparkSubmitArgs } from './spark-submit.js';
import { rejection } from '../../test/support/rejection.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtrec-spark-submit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake `java` printing `version` the way `java -version` does (on stderr). */
async function fakeJavaHome(name: string, version: string): Promise<string> {
  const home = join(dir, name);
  await mkdir(join(home, 'bin'), { recursive: true });
  await writeFile(join(home, 'bin', 'java'), `#!/bin/sh\necho 'openjdk version "${version}" 2024-01-01' >&2\n`);
  await chmod(join(home, 'bin', 'java'), 0o755);
  return home;
}

/** A venv folder with an executable bin/spark-submit. */
async function fakeVenv(name: string): Promise<string> {
  const venv = join(dir, name);
  await mkdir(join(venv, 'bin'), { recursive: true });
  await writeFile(join(venv, 'bin', 'spark-submit'), '#!/bin/sh\nexit 0\n');
  await chmod(join(venv, 'bin', 'spark-submit'), 0o755);
  return venv;
}

describe('parseJavaVersion', () => {
  it('reads the major version of modern and 1.x version strings', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaVersion('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaVersion('no version here')).toBeNull();
  });
});

describe('parseSparkConf', () => {
  it('splits at the first =, keeping = in values', () => {
    expect(parseSparkConf(['spark.driver.memory=4g', 'spark.driver.extraJavaOptions=-Da=b'])).toEqual([
      ['spark.driver.memory', '4g'],
      ['spark.driver.extraJavaOptions', '-Da=b'],
    ]);
  });
  it('rejects an entry without a key', () => {
    for (const bad of ['spark.driver.memory', '=4g']) expect(() => parseSparkConf([bad])).toThrow(/key=value/);
  });
});

describe('sparkSubmitArgs', () => {
  it('puts master, user conf, then unset defaults, then the script and its arguments', () => {
    const args = sparkSubmitArgs('local[2]', [['spark.ui.enabled', 'true'], ['a', 'b']], ['--data', 'x']);
    expect(args).toEqual([
      '--master', 'local[2]', '--name', 'rtrec-train',
      '--conf', 'spark.ui.enabled=true', '--conf', 'a=b', '--conf', 'spark.ui.showConsoleProgress=false',
      SPARK_JOB_SCRIPT, '--data', 'x',
    ]);
  });
  it('leaves the web UI alone on a cluster', () => {
    expect(sparkSubmitArgs('yarn', [], []).join(' ')).not.toContain('spark.ui.enabled');
  });
});

describe('locateSpark', () => {
  it('without a venv or SPARK_HOME tells the user to run the setup script', async () => {
    const err = await rejection(locateSpark(join(dir, 'no-venv'), { PATH: process.env.PATH }));
    expect(err.code).toBe(SPARK_UNAVAILABLE);
    expect(err.message).toContain('scripts/setup-spark.sh');
    expect(err.message).toContain(join(dir, 'no-venv', 'bin', 'spark-submit'));
  });

  it('uses the venv: its Python for PySpark, no foreign SPARK_HOME, quiet logging conf', async () => {
    const venv = await fakeVenv('venv');
    const javaHome = await fakeJavaHome('jdk17', '17.0.2');
    const env = { PATH: process.env.PATH, JAVA_HOME: javaHome, SPARK_HOME: '/elsewhere' };
    const launcher = await locateSpark(venv, env);
    expect(launcher.sparkSubmit).toBe(join(venv, 'bin', 'spark-submit'));
    expect(launcher.javaVersion).toBe(17);
    expect(launcher.env.SPARK_HOME).toBeUndefined();
    expect(launcher.env.PYSPARK_PYTHON).toBe(join(venv, 'bin', 'python'));
    expect(launcher.env.SPARK_CONF_DIR).toMatch(/jobs[/\\]spark[/\\]conf$/);
    expect(env.SPARK_HOME).toBe('/elsewhere');
  });

  it('falls back to $SPARK_HOME/bin/spark-submit', async () => {
    const home = await fakeVenv('spark-home');
    const javaHome = await fakeJavaHome('jdk21', '21.0.1');
    const launcher = await locateSpark(join(dir, 'no-venv'), { PATH: process.env.PATH, JAVA_HOME: javaHome, SPARK_HOME: home, SPARK_CONF_DIR: '/mine' });
    expect(launcher.sparkSubmit).toBe(join(home, 'bin', 'spark-submit'));
    expect(launcher.env.SPARK_CONF_DIR).toBe('/mine');
  });

  it("leaves SPARK_CONF_DIR unset for $SPARK_HOME, so Spark reads the installation's own conf/", async () => {
    const home = await fakeVenv('spark-home-own-conf');
    const javaHome = await fakeJavaHome('jdk17-own-conf', '17.0.2');
    const launcher = await locateSpark(join(dir, 'no-venv'), { PATH: process.env.PATH, JAVA_HOME: javaHome, SPARK_HOME: home });
    expect(launcher.sparkSubmit).toBe(join(home, 'bin', 'spark-submit'));
    expect(launcher.env).not.toHaveProperty('SPARK_CONF_DIR');
  });

  it('rejects Java older than 17 and a missing Java', async () => {
    const venv = await fakeVenv('venv-old-java');
    const old = await rejection(locateSpark(venv, { PATH: process.env.PATH, JAVA_HOME: await fakeJavaHome('jdk8', '1.8.0_392') }));
    expect(old.code).toBe(SPARK_UNAVAILABLE);
    expect(old.message).toMatch(/Java 8/);
    const missing = await rejection(locateSpark(venv, { PATH: process.env.PATH, JAVA_HOME: join(dir, 'no-jdk') }));
    expect(missing.code).toBe(SPARK_UNAVAILABLE);
    expect(missing.message).toContain('Java 17');
  });
});
