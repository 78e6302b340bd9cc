/**
 * docker-compose.yml, checked without a Docker engine (there is none in CI):
 * - a Compose implementation parses and interpolates it (`config -q`); Debian's
 *   docker-compose is installed by scripts/install-compose-validator.sh when
 *   missing, and these checks are skipped, saying why, only when it cannot be;
 * - it is valid against the compose-spec JSON schema (vendored beside this file);
 * - it has the production shape docs/deployment.md describes: images pinned to
 *   exact tags, the Temporal server and UI at the versions of the dev server the
 *   suite runs, task-queue fairness on, health checks, ordered start, and the
 *   CLI service with what `discover` and `restore` need;
 * - every environment variable the worker reads is documented in
 *   docs/deployment.md's table and wired into the `worker` service.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { beforeAll, describe, expect, it } from 'vitest';
import { temporalBinary } from '../../common/temporal-dev-server';
import { ENV_DEFAULTS } from '../../worker/config';
import { REPO_ROOT } from '../helpers/processes';

const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
const DOCS = path.join(REPO_ROOT, 'docs', 'deployment.md');
const SCHEMA = path.join(__dirname, 'compose-spec.json');

type Environment = Record<string, string | number | boolean | null>;
interface Service {
  image?: string;
  command?: string[];
  build?: { context: string; dockerfile?: string };
  user?: string;
  profiles?: string[];
  environment?: Environment;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Variables in the worker's environment that the worker itself does not read. */
const NOT_READ_BY_THE_WORKER = new Set(['RS_CLEANUP_DATA_DIR', 'AWS_PROFILE', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);

let compose: string[] | undefined;
let unavailable = '';

beforeAll(() => {
  const installed = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-compose-validator.sh')], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (installed.status === 0) {
    compose = installed.stdout.trim().split('\n').at(-1)!.split(' ');
  } else {
    unavailable = `could not install a Compose implementation and PyYAML: ${installed.stderr.trim().split('\n').slice(-3).join(' / ')}`;
    console.warn(`Skipping the docker-compose.yml checks that need Compose and a YAML reader: ${unavailable}`);
  }
}, 320_000);

/** The compose file as data, read by Debian's PyYAML (installed with docker-compose). */
function readCompose(): ComposeFile {
  const read = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', COMPOSE_FILE],
    { encoding: 'utf8' },
  );
  if (read.status !== 0) throw new Error(`cannot read ${COMPOSE_FILE}: ${read.stderr}`);
  return JSON.parse(read.stdout) as ComposeFile;
}

/** Compose with a bare environment, so the operator's variables cannot mask a missing default. */
function runCompose(args: string[]) {
  const [command, ...prefix] = compose!;
  return spawnSync(command!, [...prefix, '-f', COMPOSE_FILE, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
}

/** Rows of the environment table in docs/deployment.md: name -> default cell. */
function documentedVariables(): Map<string, string> {
  const docs = readFileSync(DOCS, 'utf8');
  const section = docs.slice(docs.indexOf('\n## Environment variables'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const rows = new Map<string, string>();
  for (const line of table.split('\n')) {
    const row = /^\| `([A-Z][A-Z0-9_]*)` \| (.+?) \| (.+) \|$/.exec(line);
    if (row) rows.set(row[1]!, row[2]!);
  }
  return rows;
}

describe('docker-compose.yml', () => {
  it('is accepted by Compose, with every variable defaulted', (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    const checked = runCompose(['config', '-q']);
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    // And Compose does report a broken file: the check can fail.
    const broken = spawnSync(compose[0]!, [...compose.slice(1), '-f', '-', 'config', '-q'], {
      input: 'services:\n  worker:\n    image: x\n    depends_on:\n      temporal:\n        condition: service_ready\n',
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect(broken.status).not.toBe(0);
  });

  it('is valid against the compose-spec JSON schema', (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    // The 2021 schema still carries draft-04 style `id`s and an http $schema URI that Ajv does not know.
    const strip = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(strip)
        : value && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .filter(([key, v]) => !((key === 'id' || key === '$schema') && typeof v === 'string'))
                .map(([key, v]) => [key, strip(v)]),
            )
          : value;
    const ajv = new Ajv2019({
      allErrors: true,
      strict: false,
      formats: { duration: /^(\d+(\.\d+)?(us|ms|s|m|h))+$/, expose: true, ports: true, subnet_ip_address: true },
    });
    const validate = ajv.compile(strip(JSON.parse(readFileSync(SCHEMA, 'utf8'))) as object);
    const file = readCompose();
    expect(validate(file) ? [] : validate.errors).toEqual([]);

    // The schema catches what Compose would: a wrong condition, a misspelt key.
    const broken = JSON.parse(JSON.stringify(file)) as ComposeFile & { services: Record<string, Record<string, unknown>> };
    broken.services.worker!.helthcheck = broken.services.worker!.healthcheck;
    (broken.services.worker!.depends_on as Record<string, { condition: string }>)['temporal-namespace']!.condition = 'service_ready';
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/services/worker', '/services/worker/depends_on/temporal-namespace/condition']),
    );
  });

  it('has the production shape: pinned official images, health checks, ordered start, no secrets', (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    const { services, volumes } = readCompose();
    const active = (profile?: string) =>
      Object.keys(services).filter((name) => !services[name]!.profiles || (profile && services[name]!.profiles!.includes(profile)));
    const stack = ['data-init', 'postgresql', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker'];
    expect(active().sort()).toEqual(stack);
    expect(active('local').sort()).toEqual(['cognito-emulator', ...stack].sort());
    expect(services['rs-cleanup']!.profiles).toEqual(['cli']);

    // Official images at exact tags; the schema and namespace jobs run the admin tools of the server's version.
    expect(services.postgresql!.image).toMatch(/^postgres:16\.\d+$/);
    const server = /^temporalio\/server:(\d+\.\d+\.\d+)$/.exec(services.temporal!.image!)?.[1];
    expect(server, services.temporal!.image).toBeDefined();
    for (const job of ['temporal-schema', 'temporal-namespace']) {
      expect(services[job]!.image).toMatch(new RegExp(`^temporalio/admin-tools:${server!.replace(/\./g, '\\.')}-tctl-[\\d.]+-cli-[\\d.]+$`));
    }
    const ui = /^temporalio\/ui:(\d+\.\d+\.\d+)$/.exec(services['temporal-ui']!.image!)?.[1];
    expect(ui, services['temporal-ui']!.image).toBeDefined();
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });

    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'worker', 'cognito-emulator']) {
      expect(services[name]!.healthcheck?.test.length, `${name} has a health check`).toBeGreaterThan(0);
    }
    expect(services['temporal-ui']!.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:8080/healthz');
    // Ordered start: database, schema, server, namespace, then the workers and the CLI.
    expect(services['temporal-schema']!.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(services.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(services['temporal-namespace']!.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(services['temporal-ui']!.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(services.worker!.depends_on).toEqual({
      'temporal-namespace': { condition: 'service_completed_successfully' },
      'data-init': { condition: 'service_completed_successfully' },
    });
    expect(services['rs-cleanup']!.depends_on).toEqual({ 'temporal-namespace': { condition: 'service_completed_successfully' } });

    // The worker, CLI and emulator are built from the Dockerfile and run it as is.
    for (const name of ['worker', 'rs-cleanup', 'cognito-emulator', 'data-init']) {
      expect(services[name]!.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
      expect(services[name]!.image).toBe(services.worker!.image);
    }
    expect(services.worker!.user).toBeUndefined(); // the image's non-root user
    const emulatorCommand = services['cognito-emulator']!.command!.join(' ');
    expect(emulatorCommand).toBe('node --import tsx emulator/main.ts --port 9229 --host 0.0.0.0 --state /data/emulator-state.json');

    // Audit files and inputs on a named volume shared by the workers and the CLI; AWS config read-only.
    expect(volumes).toHaveProperty('rs-cleanup-data');
    for (const name of ['worker', 'rs-cleanup']) {
      expect(services[name]!.volumes, name).toEqual(expect.arrayContaining(['rs-cleanup-data:/data', '${AWS_CONFIG_DIR:-~/.aws}:/home/node/.aws:ro']));
    }
    expect(services.worker!.environment!.RS_CLEANUP_AUDIT_DIR).toBe('/data/audit');

    // Secrets are passed through from the operator's shell, never written here.
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_KEY_DATA']) {
      expect(services.worker!.environment, name).toHaveProperty(name, null);
      expect(services['rs-cleanup']!.environment, name).toHaveProperty(name, null);
    }
  });

  it('runs the Temporal server and UI versions of the dev server the tests use', (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    const { services } = readCompose();
    // "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)"
    const reported = spawnSync(temporalBinary(), ['--version'], { encoding: 'utf8' }).stdout;
    const [, server, ui] = /\(Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)\)/.exec(reported) ?? [];
    expect(server, reported).toBeDefined();
    expect(services.temporal!.image).toBe(`temporalio/server:${server}`);
    expect(services['temporal-ui']!.image).toBe(`temporalio/ui:${ui}`);
  });

  it("turns on task-queue fairness in the server's dynamic config", (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    const { services } = readCompose();
    const temporal = services.temporal!;
    const mount = temporal.volumes!.find((v) => v.endsWith(':ro') && v.includes('/etc/temporal/config/dynamicconfig/'))!;
    const [hostPath, containerPath] = mount.split(':');
    expect(`/etc/temporal/${temporal.environment!.DYNAMIC_CONFIG_FILE_PATH}`).toBe(containerPath);
    const read = spawnSync('/usr/bin/python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', path.join(REPO_ROOT, hostPath!)], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({ 'matching.enableFairness': [{ value: true }] });
  });

  it('gives the CLI service what discover and restore need to reach Cognito', (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    const { services } = readCompose();
    const cli = services['rs-cleanup']!.environment!;
    const worker = services.worker!.environment!;
    for (const name of ['COGNITO_ENDPOINT', 'AWS_PROFILE', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      expect(cli, name).toHaveProperty(name);
      expect(cli[name], name).toEqual(worker[name]);
    }
    // And the same Temporal connection settings as the workers.
    for (const name of Object.keys(worker).filter((n) => n.startsWith('TEMPORAL_') && n !== 'TEMPORAL_METRICS_PORT')) {
      expect(cli[name], name).toEqual(worker[name]);
    }
  });
});

describe('the worker environment', () => {
  it('has every variable the worker reads in ENV_DEFAULTS, not read behind its back', () => {
    // Variables are read through readWorkerConfig / readTemporalConnection only;
    // a direct process.env read elsewhere in the worker's code would escape this test.
    const dirs = ['worker', 'activities'].map((d) => path.join(REPO_ROOT, d));
    const files = [
      ...dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f))),
      path.join(REPO_ROOT, 'common', 'temporal-connection.ts'),
    ];
    const direct = new Set<string>();
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)) {
        direct.add(match[1] ?? match[2]!);
      }
    }
    expect([...direct].filter((name) => !(name in ENV_DEFAULTS))).toEqual([]);
  });

  it('is documented in docs/deployment.md, each default as in worker/config.ts', () => {
    const documented = documentedVariables();
    for (const [name, value] of Object.entries(ENV_DEFAULTS)) {
      expect(documented.has(name), `${name} is in the table of docs/deployment.md`).toBe(true);
      if (value !== '') expect(documented.get(name), `${name}'s default`).toBe(`\`${value}\``);
    }
    // And the table lists nothing the worker does not read.
    expect([...documented.keys()].filter((name) => !(name in ENV_DEFAULTS))).toEqual([]);
  });

  it('is wired into the worker service of docker-compose.yml', (ctx) => {
    if (!compose) return ctx.skip(unavailable);
    const environment = readCompose().services.worker!.environment ?? {};
    const missing = Object.keys(ENV_DEFAULTS).filter((name) => !(name in environment));
    expect(missing, 'variables the compose file does not pass to the worker').toEqual([]);
    const unknown = Object.keys(environment).filter((name) => !(name in ENV_DEFAULTS) && !NOT_READ_BY_THE_WORKER.has(name));
    expect(unknown, 'variables in the compose file that nothing reads').toEqual([]);
  });
});
