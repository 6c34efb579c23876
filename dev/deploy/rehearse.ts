/**
 * `npm run deploy -- --rehearse`: the real `twilio-run deploy`, run against the local Serverless
 * API stand-in (emulator/serverless) instead of Twilio. twilio-run cannot be pointed at another
 * host, but its HTTPS client honours HTTP_PROXY: the child gets a local proxy that answers for
 * the Serverless API's hosts with a certificate from a throwaway CA it trusts through
 * NODE_EXTRA_CA_CERTS. Nothing leaves the machine (the proxy refuses every other host).
 *
 * twilio-run runs in a temporary copy of the deploy layout (package.json, .twilioserverlessrc,
 * the functions and assets folders, a .env with a made-up account), so the .twiliodeployinfo it
 * writes never reaches the project, and a later real deploy cannot pick up a rehearsal service.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRehearsalProxy } from '../../emulator/serverless/proxy';
import type { ServerlessStandIn } from '../../emulator/serverless/standin';
import { newSid } from '../../emulator/sids';
import { writeEnvFile } from '../env-file';
import { TWILIO_RUN_BIN } from '../paths';
import type { DeployConfig } from './preflight';

export interface RehearsalOptions {
  projectDir: string;
  config: DeployConfig;
  /** The .env values twilio-run would read (credentials in it are replaced). */
  env: Record<string, string>;
  /** Extra `twilio-run deploy` flags. */
  args?: string[];
  /** Where twilio-run's output goes as it comes (default: this process's stdout/stderr). */
  write?: (text: string) => void;
  /**
   * The account the stand-in plays (default: made-up credentials). `npm run call -- --deployed`
   * gives the local stack's account, so the emulator's signatures match the served domain's.
   */
  credentials?: { ACCOUNT_SID: string; AUTH_TOKEN: string };
}

export interface RehearsalResult {
  code: number;
  standIn: ServerlessStandIn;
  domain: string | undefined;
  /** Everything twilio-run printed. */
  output: string;
  /** Hosts the proxy refused to tunnel to (should be none). */
  refused: string[];
}

/** Made-up credentials of the right shape for the stand-in's account. */
export function rehearsalCredentials(): { ACCOUNT_SID: string; AUTH_TOKEN: string } {
  return { ACCOUNT_SID: newSid('AC'), AUTH_TOKEN: randomBytes(16).toString('hex') };
}

function copyDeployLayout(projectDir: string, config: DeployConfig, into: string): void {
  for (const file of ['package.json', '.twilioserverlessrc']) {
    if (fs.existsSync(path.join(projectDir, file))) fs.copyFileSync(path.join(projectDir, file), path.join(into, file));
  }
  for (const folder of [config.functionsFolder ?? 'functions', config.assetsFolder ?? 'assets']) {
    const from = path.join(projectDir, folder);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(into, folder), { recursive: true });
  }
  // twilio-run's project check wants one of functions/, src/, assets/ or static/ at the top.
  fs.mkdirSync(path.join(into, 'src'), { recursive: true });
}

export async function rehearse(options: RehearsalOptions): Promise<RehearsalResult> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const credentials = options.credentials ?? rehearsalCredentials();
  const proxy = await startRehearsalProxy(credentials.ACCOUNT_SID, credentials.AUTH_TOKEN);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-rehearsal-'));
  try {
    copyDeployLayout(options.projectDir, options.config, workDir);
    writeEnvFile(path.join(workDir, '.env'), { ...options.env, ...credentials });

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HTTP_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: proxy.caFile,
      FORCE_COLOR: '0',
    };
    // Anything that would send twilio-run elsewhere (another edge or region host, another proxy).
    for (const key of [
      'TWILIO_EDGE',
      'TWILIO_REGION',
      'HTTPS_PROXY',
      'https_proxy',
      'http_proxy',
      'NO_PROXY',
      'no_proxy',
    ])
      delete env[key];
    const child = spawn(process.execPath, [TWILIO_RUN_BIN, 'deploy', ...(options.args ?? [])], {
      cwd: workDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const tee = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      write(text);
    };
    child.stdout.on('data', tee);
    child.stderr.on('data', tee);
    const code = await new Promise<number>((resolve) => {
      child.once('exit', (exitCode) => resolve(exitCode ?? 1));
      child.once('error', () => resolve(1));
    });
    return {
      code,
      standIn: proxy.standIn,
      domain: proxy.standIn.lastDeployedDomain(),
      output,
      refused: [...proxy.refused],
    };
  } finally {
    await proxy.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** A table of what the rehearsal uploaded, for the terminal. */
export function describeUploads(standIn: ServerlessStandIn): string {
  const lines: string[] = [];
  const build = [...standIn.builds.values()].pop();
  const rows: Array<[string, string]> = [];
  for (const u of [...standIn.uploads].sort((a, b) => a.path.localeCompare(b.path))) {
    rows.push([
      `${u.kind === 'function' ? 'Function Version' : 'Asset Version'}`,
      `${u.path}  ${u.visibility}  ${u.content.length} bytes  (${u.contentType})`,
    ]);
  }
  if (build) {
    rows.push([
      'Build',
      `runtime ${build.runtime ?? '(none: platform default)'}, ${build.functionVersions.length} functions, ${build.assetVersions.length} assets`,
    ]);
    rows.push(['Build dependencies', build.dependencies.map((d) => `${d.name}@${d.version}`).join(', ') || '(none)']);
  }
  const variables = [...standIn.variables.values()].map((v) => v.key).sort();
  rows.push(['Variables', variables.join(', ') || '(none)']);
  rows.push(['Deployments', String(standIn.deployments.length)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  return lines.join('\n');
}
