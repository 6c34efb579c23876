/**
 * The steps of `npm run deploy`: preflight (config), build, preflight (files), then either the
 * real `twilio-run deploy` or its rehearsal against the local stand-in. Nothing is uploaded
 * unless every preflight check passes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from '../build';
import { readEnvFile, writeEnvFile } from '../env-file';
import { PROJECT_ROOT } from '../paths';
import { spawnTwilioRun } from '../twilio-run-process';
import {
  checkConfig,
  checkFiles,
  listDeployFiles,
  variablesToUpload,
  type DeployConfig,
  type PackageJson,
  type PreflightResult,
} from './preflight';
import { describeUploads, rehearse, type RehearsalResult } from './rehearse';

export interface DeployOptions {
  rehearse: boolean;
  /** The project to deploy (default: this repository, which is built first). */
  projectDir: string;
  /** Flags passed on to `twilio-run deploy`. */
  twilioRunArgs: string[];
  out: (line: string) => void;
  err: (line: string) => void;
  /** Streams twilio-run's own output in a rehearsal. */
  write?: (text: string) => void;
  /** Called with what the rehearsal's stand-in received (for tests and reports). */
  onRehearsed?: (result: RehearsalResult) => void;
  /** The account the rehearsal's stand-in plays (default: made-up credentials). */
  rehearsalCredentials?: { ACCOUNT_SID: string; AUTH_TOKEN: string };
}

const USAGE = `Usage: npm run deploy [-- --rehearse] [-- --project-dir DIR] [-- twilio-run deploy flags]`;

export function parseDeployArgs(
  argv: string[],
): { rehearse: boolean; projectDir: string; twilioRunArgs: string[] } | { error: string } {
  let rehearseFlag = false;
  let projectDir = PROJECT_ROOT;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--rehearse') rehearseFlag = true;
    else if (arg === '--project-dir') {
      const value = argv[(i += 1)];
      if (!value) return { error: `--project-dir needs a folder. ${USAGE}` };
      projectDir = path.resolve(value);
    } else if (arg.startsWith('--project-dir=')) projectDir = path.resolve(arg.slice('--project-dir='.length));
    else rest.push(arg);
  }
  return { rehearse: rehearseFlag, projectDir, twilioRunArgs: rest };
}

function flagValue(args: string[], names: string[]): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    for (const name of names) {
      if (args[i] === name) return args[i + 1];
      if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
    }
  }
  return undefined;
}

/** .twilioserverlessrc as twilio-run reads it (its own reader), with a --runtime flag on top. */
export function readDeployConfig(projectDir: string, args: string[]): DeployConfig {
  const { readSpecializedConfig } = require('twilio-run/dist/config/global') as {
    readSpecializedConfig: (dir: string, file: string, command: string, opts?: object) => Record<string, unknown>;
  };
  const rc = readSpecializedConfig(projectDir, '.twilioserverlessrc', 'deploy', {});
  const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const flagRuntime = flagValue(args, ['--runtime']);
  return {
    runtime: flagRuntime ?? str(rc.runtime),
    runtimeFrom: flagRuntime ? 'the --runtime flag' : '.twilioserverlessrc',
    serviceName: flagValue(args, ['--service-name', '-n']) ?? str(rc.serviceName),
    functionsFolder: flagValue(args, ['--functions-folder']) ?? str(rc.functionsFolder),
    assetsFolder: flagValue(args, ['--assets-folder']) ?? str(rc.assetsFolder),
  };
}

function twilioRunEngines(): string | undefined {
  return (require('twilio-run/package.json') as { engines?: { node?: string } }).engines?.node;
}

function report(result: PreflightResult, options: DeployOptions): boolean {
  for (const warning of result.warnings) options.err(`preflight warning: ${warning}`);
  for (const refusal of result.refusals) options.err(`preflight: ${refusal}`);
  if (result.refusals.length > 0) {
    options.err(
      `Deploy stopped by preflight (${result.refusals.length} problem${result.refusals.length === 1 ? '' : 's'}); nothing was uploaded.`,
    );
    return false;
  }
  return true;
}

/** What the deploy reads from the project: package.json, the deploy config and the .env file. */
interface DeployProject {
  pkg: PackageJson;
  config: DeployConfig;
  env: Record<string, string>;
  /** The .env file's name as given (for messages). */
  envName: string;
}

function readProject(projectDir: string, args: string[]): DeployProject | { error: string } {
  const pkgFile = path.join(projectDir, 'package.json');
  if (!fs.existsSync(pkgFile))
    return { error: `${pkgFile} does not exist: run the deploy from the project (or pass --project-dir).` };
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as PackageJson;
  const config = readDeployConfig(projectDir, args);
  const envArg = flagValue(args, ['--env']);
  const envFile = envArg ? path.resolve(projectDir, envArg) : path.join(projectDir, '.env');
  return { pkg, config, env: readEnvFile(envFile), envName: envArg ?? '.env' };
}

interface DeployCredentials {
  /** Neither .env nor the flags name an account: twilio-run would take the shell's. */
  fromShell: boolean;
  /** What twilio-run will authenticate with (undefined in a rehearsal, which needs none). */
  credentials?: { username: string; password: string; from: string };
}

/** Credentials: --username/--password, then .env, then the shell (what twilio-run would use). */
function deployCredentials(args: string[], project: DeployProject, rehearsal: boolean): DeployCredentials {
  const { env, envName } = project;
  const fromShell = !env.ACCOUNT_SID && !env.AUTH_TOKEN && !flagValue(args, ['--username', '-u']);
  if (rehearsal) return { fromShell };
  const username =
    flagValue(args, ['--username', '-u']) ?? (fromShell ? (process.env.ACCOUNT_SID ?? '') : (env.ACCOUNT_SID ?? ''));
  const password =
    flagValue(args, ['--password', '-p']) ?? (fromShell ? (process.env.AUTH_TOKEN ?? '') : (env.AUTH_TOKEN ?? ''));
  const from = flagValue(args, ['--username', '-u'])
    ? 'the --username/--password flags'
    : fromShell
      ? `${envName} or the shell`
      : envName;
  return { fromShell, credentials: { username, password, from } };
}

/** Preflight of the files (after the build, when deploying this repository); true when it passed. */
async function preflightFiles(projectDir: string, project: DeployProject, options: DeployOptions): Promise<boolean> {
  const { pkg, config, env } = project;
  if (projectDir === PROJECT_ROOT) await build({ log: true });
  const files = await listDeployFiles(projectDir, config);
  if (!report(checkFiles(files, projectDir, { holdMusicPath: env.HOLD_MUSIC_PATH || undefined }), options))
    return false;
  options.out(
    `preflight: passed (runtime ${config.runtime}, @twilio/runtime-handler ${pkg.dependencies?.['@twilio/runtime-handler']}, ${files.filter((f) => f.kind === 'function').length} functions, ${files.filter((f) => f.kind === 'asset').length} assets, ${Object.keys(variablesToUpload(env)).length} variables)`,
  );
  return true;
}

/** `twilio-run deploy` against the local stand-in, and what it uploaded. */
async function runRehearsal(project: DeployProject, options: DeployOptions): Promise<number> {
  options.out(
    'Rehearsing `twilio-run deploy` against the local Serverless API stand-in (nothing leaves this machine).',
  );
  const result = await rehearse({
    projectDir: options.projectDir,
    config: project.config,
    env: project.env,
    args: options.twilioRunArgs,
    write: options.write,
    credentials: options.rehearsalCredentials,
  });
  options.onRehearsed?.(result);
  const problems = [
    ...result.standIn.problems,
    ...result.refused.map((host) => `twilio-run tried to reach ${host}, which the rehearsal does not serve`),
  ];
  for (const problem of problems) options.err(`rehearsal: ${problem}`);
  if (result.code !== 0 || problems.length > 0 || !result.domain) {
    options.err(`Rehearsal failed (twilio-run exit ${result.code}).`);
    return result.code || 1;
  }
  options.out('');
  options.out('Uploaded to the stand-in:');
  options.out(describeUploads(result.standIn));
  options.out('');
  options.out(`Rehearsal deployed to https://${result.domain}`);
  return 0;
}

/** The real `twilio-run deploy`, in the foreground. */
async function runTwilioRunDeploy(
  project: DeployProject,
  deploy: DeployCredentials,
  options: DeployOptions,
): Promise<number> {
  const { projectDir, twilioRunArgs: args } = options;
  const { fromShell, credentials } = deploy;
  // Credentials from the shell go in a private temporary copy of .env (never on the command
  // line, where other users could read them from the process list).
  let tempDir: string | undefined;
  const deployArgs = ['deploy', ...(projectDir === PROJECT_ROOT ? [] : ['--cwd', projectDir])];
  if (fromShell && credentials) {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-async-deploy-'));
    const tempEnv = path.join(tempDir, '.env');
    writeEnvFile(tempEnv, { ...project.env, ACCOUNT_SID: credentials.username, AUTH_TOKEN: credentials.password });
    deployArgs.push('--env', tempEnv);
  }
  try {
    // In the foreground: the terminal's Ctrl+C reaches twilio-run directly, so this process
    // only waits for it; a SIGTERM sent to this process alone is passed on.
    const twilioRun = spawnTwilioRun([...deployArgs, ...args], { output: 'inherit', interactive: true });
    process.on('SIGINT', () => undefined);
    process.once('SIGTERM', () => void twilioRun.stop());
    return await twilioRun.exited;
  } finally {
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

export async function runDeploy(options: DeployOptions): Promise<number> {
  const { projectDir, twilioRunArgs: args } = options;
  const project = readProject(projectDir, args);
  if ('error' in project) {
    options.err(project.error);
    return 1;
  }
  const deploy = deployCredentials(args, project, options.rehearse);
  const configCheck = checkConfig({
    config: project.config,
    pkg: project.pkg,
    env: project.env,
    envFile: project.envName,
    credentials: deploy.credentials,
    nodeVersion: process.versions.node,
    twilioRunEngines: twilioRunEngines(),
  });
  if (!report(configCheck, options)) return 1;
  if (!(await preflightFiles(projectDir, project, options))) return 1;
  return options.rehearse ? runRehearsal(project, options) : runTwilioRunDeploy(project, deploy, options);
}
