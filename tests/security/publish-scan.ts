/**
 * What `twilio serverless:deploy` (twilio-run deploy) would publish, listed with twilio-run's own
 * code: its reader of .twilioserverlessrc and @twilio-labs/serverless-api's file listing (the one
 * deployLocalProject uses, through dev/deploy/preflight.ts listDeployFiles), and a scan of that
 * list for things that must never be published.
 */
import fs from 'node:fs';
import path from 'node:path';
import { listDeployFiles, type DeployFile } from '../../dev/deploy/preflight';

/** A file a deploy publishes: its public URL path, visibility, kind and where it is on disk. */
export type PublishedFile = DeployFile;

/** The files a deploy from `projectDir` would upload, exactly as twilio-run finds them. */
export async function listPublishedFiles(projectDir: string): Promise<PublishedFile[]> {
  const { readSpecializedConfig } = require('twilio-run/dist/config/global') as {
    readSpecializedConfig: (
      dir: string,
      file: string,
      command: string,
      opts?: object,
    ) => { functionsFolder?: string; assetsFolder?: string };
  };
  return listDeployFiles(projectDir, readSpecializedConfig(projectDir, '.twilioserverlessrc', 'deploy', {}));
}

export interface PublishProblem {
  path: string;
  problem: string;
}

/** File names that hold secrets or private material. */
const SECRET_NAMES = [
  /(^|\/)\.env(\..*)?$/i,
  /\.(pem|key|p12|pfx|crt|der)$/i,
  /(^|\/)id_(rsa|ed25519|ecdsa)/i,
  /(^|\/)\.npmrc$/i,
  /(^|\/)\.twiliodeployinfo$/i,
  /credentials/i,
];
/** Things that are not meant for the public: sources, maps, tests, tooling, dotfiles. */
const PRIVATE_NAMES = [
  /\.map$/i,
  /\.(ts|tsx)$/i,
  /(^|\/)\./,
  /\.(test|spec)\./i,
  /(^|\/)(package(-lock)?\.json|tsconfig\.json|jest\.config\.js)$/i,
];

/**
 * Problems in what would be published: secret files, secrets inside files (webhook secrets, the
 * auth token), source maps (files or sourceMappingURL comments), private files among the public.
 * `secretValues` are literal values that must appear nowhere (AUTH_TOKEN etc.).
 */
export function findPublishProblems(files: PublishedFile[], secretValues: string[]): PublishProblem[] {
  const problems: PublishProblem[] = [];
  const values = secretValues.filter((value) => value.length >= 6);
  for (const file of files) {
    const name = file.path;
    if (SECRET_NAMES.some((pattern) => pattern.test(name))) problems.push({ path: name, problem: 'a secret file' });
    if (PRIVATE_NAMES.some((pattern) => pattern.test(name)))
      problems.push({ path: name, problem: 'a private file (source, map, test, tooling or dotfile)' });
    if (file.kind === 'function' && file.access === 'private')
      problems.push({ path: name, problem: 'a private function is uploaded with the service' });
    const content = fs.readFileSync(file.filePath);
    const text = content.toString('latin1');
    if (/whsec_[A-Za-z0-9+/=]{8,}/.test(text))
      problems.push({ path: name, problem: 'holds a webhook secret (whsec_...)' });
    if (/sourceMappingURL=/.test(text)) problems.push({ path: name, problem: 'points at a source map' });
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) problems.push({ path: name, problem: 'holds a private key' });
    if (/\bSK[0-9a-f]{32}\b/.test(text) && /secret/i.test(text))
      problems.push({ path: name, problem: 'holds an API key' });
    for (const value of values) {
      if (text.includes(value)) problems.push({ path: name, problem: 'holds a configured secret value' });
    }
  }
  return problems;
}

/** Values in an env file that are secrets (tokens, secrets, keys, passwords). */
export function secretValuesOf(envFile: string): string[] {
  if (!fs.existsSync(envFile)) return [];
  return fs
    .readFileSync(envFile, 'utf8')
    .split('\n')
    .map((line) => /^\s*([A-Z0-9_]+)\s*=\s*['"]?(.*?)['"]?\s*$/.exec(line))
    .filter(
      (match): match is RegExpExecArray =>
        match !== null && /TOKEN|SECRET|KEY|PASSWORD/.test(match[1]!) && match[2]!.trim() !== '',
    )
    .map((match) => match[2]!);
}

/** A copy of the deploy layout (rc file + built folders) to plant things in. */
export function copyDeployLayout(projectDir: string, target: string): void {
  const config = JSON.parse(fs.readFileSync(path.join(projectDir, '.twilioserverlessrc'), 'utf8')) as {
    functionsFolder: string;
    assetsFolder: string;
  };
  fs.copyFileSync(path.join(projectDir, '.twilioserverlessrc'), path.join(target, '.twilioserverlessrc'));
  for (const folder of [config.functionsFolder, config.assetsFolder]) {
    fs.cpSync(path.join(projectDir, folder), path.join(target, folder), { recursive: true });
  }
}
