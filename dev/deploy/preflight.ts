/**
 * Deploy preflight: everything the platform is known to refuse, checked on this machine before
 * anything is uploaded. Offline and side-effect free. Each refusal is one sentence naming the
 * file, the value and the fix; warnings do not stop a deploy.
 *
 * Two stages, because the file checks need the build:
 *   checkConfig(...)  .twilioserverlessrc runtime vs @twilio/runtime-handler, local Node,
 *                     credentials, the .env keys that would become Variables
 *   checkFiles(...)   what twilio-run would upload: counts, sizes, paths, visibility, and
 *                     audio Twilio's <Play> would not play (checkAudio)
 * The facts and limits come from platform-facts.ts; the .env keys from ../env-keys.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sidPattern } from '../../emulator/sids';
import { inspectAudioFile, isOtherAudioName, isPlayableAudioName } from '../audio-assets';
import { LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN } from '../credentials';
import { ENV_KEYS } from '../env-keys';
import { HANDLERS, LIMITS, RUNTIMES, SHIPPED_PAIR } from './platform-facts';

export interface PreflightResult {
  refusals: string[];
  warnings: string[];
}

export interface DeployConfig {
  /** From .twilioserverlessrc (or a --runtime flag), undefined when neither sets one. */
  runtime: string | undefined;
  /** Where the runtime came from, for messages: `.twilioserverlessrc` or `the --runtime flag`. */
  runtimeFrom: string;
  serviceName: string | undefined;
  functionsFolder: string | undefined;
  assetsFolder: string | undefined;
}

export interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface ConfigInput {
  config: DeployConfig;
  pkg: PackageJson;
  /** The .env file's values (what twilio-run reads), and the file's name for messages. */
  env: Record<string, string>;
  envFile: string;
  /** Credentials twilio-run will use, and where they came from; undefined = not checked (rehearsal). */
  credentials?: { username: string; password: string; from: string };
  /** process.versions.node */
  nodeVersion: string;
  /** twilio-run's package.json engines.node, e.g. `^20.x || ^22.x`. */
  twilioRunEngines?: string;
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const ACCOUNT_SID = sidPattern('AC');
const API_KEY_SID = sidPattern('SK');
const SYNC_SERVICE_SID = sidPattern('IS');
const HEX_32 = /^[0-9a-f]{32}$/;
const API_KEY_SECRET = /^[0-9A-Za-z]{32}$/;
/** The offline stack's fake credentials. */
const LOCAL_FAKES = [LOCAL_ACCOUNT_SID, LOCAL_AUTH_TOKEN];
const LOCAL_URL = /\b(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|host\.docker\.internal)\b/i;

function majorOf(version: string): number {
  return Number(/^v?(\d+)/.exec(version)?.[1] ?? NaN);
}

/** The majors an engines range like `^20.x || ^22.x` or `>=20` allows (only these two forms). */
function enginesAllow(range: string, major: number): boolean {
  return range.split('||').some((part) => {
    const p = part.trim();
    const caret = /^\^?(\d+)(\.x|\.\d+)*$/.exec(p);
    if (caret) return Number(caret[1]) === major;
    const atLeast = /^>=\s*(\d+)/.exec(p);
    if (atLeast) return major >= Number(atLeast[1]);
    return true; // a form this reader does not know: do not warn on it
  });
}

function runtimeMajor(runtime: string): number {
  return Number(/^node(\d+)$/.exec(runtime)?.[1] ?? NaN);
}

const shipped = `"runtime": "${SHIPPED_PAIR.runtime}" with "@twilio/runtime-handler": "${SHIPPED_PAIR.handler}"`;

export function checkRuntime(input: Pick<ConfigInput, 'config' | 'pkg'>): string[] {
  const refusals: string[] = [];
  const { runtime, runtimeFrom } = input.config;
  if (runtime === undefined) {
    refusals.push(
      `.twilioserverlessrc sets no "runtime", and twilio-run 5.1.0 deploys to node24 unless told otherwise: add "runtime": "${SHIPPED_PAIR.runtime}".`,
    );
  } else {
    const fact = RUNTIMES.find((r) => r.runtime === runtime);
    if (!fact) {
      refusals.push(
        `${runtimeFrom}: runtime "${runtime}" is not one Twilio is known to accept: use "${SHIPPED_PAIR.runtime}".`,
      );
    } else if (fact.verdict === 'refused') {
      refusals.push(
        `${runtimeFrom}: runtime "${runtime}" is refused because ${fact.reason}: use "${SHIPPED_PAIR.runtime}".`,
      );
    }
  }

  const declared = input.pkg.dependencies?.['@twilio/runtime-handler'];
  if (declared === undefined) {
    const inDev = input.pkg.devDependencies?.['@twilio/runtime-handler'] !== undefined;
    refusals.push(
      inDev
        ? `package.json declares @twilio/runtime-handler in "devDependencies", which are not uploaded: move it to "dependencies" as exactly "${SHIPPED_PAIR.handler}".`
        : `package.json has no "@twilio/runtime-handler" in "dependencies", so the platform picks one for you: add "@twilio/runtime-handler": "${SHIPPED_PAIR.handler}".`,
    );
    return refusals;
  }
  if (!EXACT_VERSION.test(declared)) {
    refusals.push(
      `package.json: "@twilio/runtime-handler": "${declared}" is not an exact version and the platform needs one: set it to exactly "${SHIPPED_PAIR.handler}".`,
    );
    return refusals;
  }
  const refusedEverywhere = HANDLERS.find(
    (h) => h.version === declared && h.verdict === 'refused' && (h.runtime === '*' || h.runtime === runtime),
  );
  if (refusedEverywhere) {
    refusals.push(
      `package.json: "@twilio/runtime-handler": "${declared}" is refused because ${refusedEverywhere.reason}: use ${shipped}.`,
    );
    return refusals;
  }
  if (runtime !== undefined && RUNTIMES.find((r) => r.runtime === runtime)?.verdict === 'accepted') {
    const accepted = HANDLERS.some((h) => h.version === declared && h.verdict === 'accepted' && h.runtime === runtime);
    if (!accepted) {
      refusals.push(
        `package.json: "@twilio/runtime-handler": "${declared}" is not known to be accepted with runtime "${runtime}": use ${shipped}, or add the pair to dev/deploy/platform-facts.ts with its source once confirmed.`,
      );
    }
  }
  return refusals;
}

export function checkNode(
  nodeVersion: string,
  runtime: string | undefined,
  twilioRunEngines: string | undefined,
): PreflightResult {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const major = majorOf(nodeVersion);
  if (!(major >= 20)) {
    refusals.push(
      `This machine runs Node.js ${nodeVersion}, below the project's "engines" (>=20 in package.json): install Node.js 22, the version the deployed functions run on.`,
    );
  } else {
    if (twilioRunEngines && !enginesAllow(twilioRunEngines, major)) {
      warnings.push(
        `Node.js ${nodeVersion} is outside twilio-run's supported engines (${twilioRunEngines}); Node.js 22 is the safe choice.`,
      );
    }
    const target = runtime ? runtimeMajor(runtime) : NaN;
    if (Number.isFinite(target) && target !== major) {
      warnings.push(
        `This machine runs Node.js ${major} and the functions will run on ${runtime}: test with Node.js ${target} locally to see what they will see.`,
      );
    }
  }
  return { refusals, warnings };
}

export function checkCredentials(credentials: { username: string; password: string; from: string }): string[] {
  const { username, password, from } = credentials;
  if (username === '' && password === '') {
    return [
      `No Twilio credentials were found in ${from}: set ACCOUNT_SID and AUTH_TOKEN there (see .env.example), or run \`npm run deploy -- --rehearse\` to deploy to the local stand-in instead.`,
    ];
  }
  if (LOCAL_FAKES.includes(username) || LOCAL_FAKES.includes(password)) {
    return [
      `${from}: ACCOUNT_SID "${username}" is the offline stack's fake account: put your real Account SID and Auth Token there.`,
    ];
  }
  if (ACCOUNT_SID.test(username)) {
    return HEX_32.test(password)
      ? []
      : [
          `${from}: AUTH_TOKEN is not 32 hexadecimal characters as Twilio auth tokens are: copy it again from the Twilio Console.`,
        ];
  }
  if (API_KEY_SID.test(username)) {
    return API_KEY_SECRET.test(password)
      ? []
      : [
          `${from}: the secret for API key ${username} is not 32 letters and digits as Twilio API key secrets are: copy the secret you saved when the key was made.`,
        ];
  }
  const shown = username.length > 6 ? `${username.slice(0, 6)}...` : username;
  return [
    `${from}: ACCOUNT_SID "${shown}" is neither an Account SID (AC + 32 hex) nor an API key SID (SK + 32 hex): copy it again from the Twilio Console.`,
  ];
}

/** What twilio-run uploads as Variables: non-empty .env values except ACCOUNT_SID and AUTH_TOKEN. */
export function variablesToUpload(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([key, value]) => value !== '' && key !== 'ACCOUNT_SID' && key !== 'AUTH_TOKEN'),
  );
}

export function checkVariables(env: Record<string, string>, envFile: string): PreflightResult {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const variables = variablesToUpload(env);
  for (const [key, value] of Object.entries(variables)) {
    const known = ENV_KEYS[key];
    if (known?.scope === 'local') {
      refusals.push(
        `${envFile}: ${key} (${known.what}) would be uploaded as a Variable and means nothing deployed: remove it from ${envFile} before deploying.`,
      );
      continue;
    }
    if (!known)
      warnings.push(`${envFile}: ${key} is not a setting the service reads; it will be uploaded as a Variable anyway.`);
    if (key.length > LIMITS.variableKeyChars.value) {
      refusals.push(
        `${envFile}: the key ${key.slice(0, 20)}... is ${key.length} characters, over Twilio's ${LIMITS.variableKeyChars.value} for a Variable key: shorten it.`,
      );
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > LIMITS.variableValueBytes.value) {
      refusals.push(
        `${envFile}: the value of ${key} is ${bytes} bytes, over Twilio's ${LIMITS.variableValueBytes.value} for a Variable value: shorten it or keep it in a private asset.`,
      );
    }
    if (LOCAL_URL.test(value)) {
      refusals.push(
        `${envFile}: ${key}=${value} points at this machine, which the deployed functions cannot reach: set a public URL or leave it empty.`,
      );
    }
  }
  const sync = variables.SYNC_SERVICE_SID;
  if (sync !== undefined && sync !== 'default' && !SYNC_SERVICE_SID.test(sync)) {
    refusals.push(
      `${envFile}: SYNC_SERVICE_SID=${sync} is neither "default" nor a Sync service SID (IS + 32 hex): fix it or leave it empty for "default".`,
    );
  }
  return { refusals, warnings };
}

export function checkConfig(input: ConfigInput): PreflightResult {
  const node = checkNode(input.nodeVersion, input.config.runtime, input.twilioRunEngines);
  const variables = checkVariables(input.env, input.envFile);
  const refusals = [
    ...checkRuntime(input),
    ...node.refusals,
    ...(input.credentials ? checkCredentials(input.credentials) : []),
    ...variables.refusals,
  ];
  const warnings = [...node.warnings, ...variables.warnings];

  const serviceName = input.config.serviceName ?? input.pkg.name;
  if (serviceName && serviceName.length > LIMITS.serviceNameChars.value) {
    refusals.push(
      `.twilioserverlessrc: serviceName "${serviceName}" is ${serviceName.length} characters, over Twilio's ${LIMITS.serviceNameChars.value}: shorten it.`,
    );
  }
  for (const [name, version] of Object.entries(input.pkg.dependencies ?? {})) {
    if (name !== '@twilio/runtime-handler' && !EXACT_VERSION.test(version)) {
      warnings.push(
        `package.json: "${name}": "${version}" is a range, so the build installs whatever matches on the day: pin it to an exact version.`,
      );
    }
  }
  return { refusals, warnings };
}

// ---- the files twilio-run would upload ---------------------------------------------------------

export interface DeployFile {
  kind: 'function' | 'asset';
  /** URL path, e.g. /jobs/start or /hold-music.wav. */
  path: string;
  access: 'public' | 'protected' | 'private';
  /** Where the file is on disk. */
  filePath: string;
}

/** The folders a deploy uploads, as .twilioserverlessrc or its flags name them (unset: twilio-run's defaults). */
export type DeployFolders = Partial<Pick<DeployConfig, 'functionsFolder' | 'assetsFolder'>>;

interface ServerlessResource {
  path: string;
  access: 'public' | 'protected' | 'private';
  filePath: string;
}

interface FolderSearch {
  functionsFolderNames?: string[];
  assetsFolderNames?: string[];
}

/**
 * The files a deploy from `projectDir` uploads, listed by @twilio-labs/serverless-api itself (the
 * listing twilio-run's deploy uses), sorted by URL path. The one list preflight checks and the
 * security scan of the published surface reads (tests/security/publish-scan.ts).
 */
export async function listDeployFiles(projectDir: string, folders: DeployFolders): Promise<DeployFile[]> {
  const { getListOfFunctionsAndAssets } = require('@twilio-labs/serverless-api/dist/utils/fs') as {
    getListOfFunctionsAndAssets: (
      cwd: string,
      search: FolderSearch,
    ) => Promise<{ functions: ServerlessResource[]; assets: ServerlessResource[] }>;
  };
  const search: FolderSearch = {};
  if (folders.functionsFolder) search.functionsFolderNames = [folders.functionsFolder];
  if (folders.assetsFolder) search.assetsFolderNames = [folders.assetsFolder];
  const { functions, assets } = await getListOfFunctionsAndAssets(projectDir, search);
  const toFile =
    (kind: DeployFile['kind']) =>
    (r: ServerlessResource): DeployFile => ({ kind, path: r.path, access: r.access, filePath: r.filePath });
  return [...functions.map(toFile('function')), ...assets.map(toFile('asset'))].sort((a, b) =>
    a.path.localeCompare(b.path),
  );
}

/** The only function Twilio calls without a signature: the backend's completion callback. */
export const PUBLIC_FUNCTIONS = ['/jobs/complete'];

/** Asset names that are never meant to be public (they would be served to anyone who asks). */
const PRIVATE_ASSET_NAMES: Array<{ pattern: RegExp; what: string }> = [
  { pattern: /\.map$/i, what: 'a source map' },
  { pattern: /\.(ts|tsx|mts|cts)$/i, what: 'a TypeScript source' },
  { pattern: /(^|\/)\.env(\..*)?$/i, what: 'an env file' },
  { pattern: /\.(pem|key|p12|pfx)$/i, what: 'a key file' },
  { pattern: /(^|\/)\.[^/]+$/, what: 'a dotfile' },
  { pattern: /(^|\/)(package(-lock)?\.json|tsconfig\.json|\.twiliodeployinfo)$/i, what: 'a project file' },
];

/**
 * One hold-loop turn plays the hold music once, and the deadline is checked once a turn: music
 * longer than this would keep a caller past the deadline for minutes, and past the shipped
 * flows' hold timeout (LIMITS.maxHoldSeconds + 300 s).
 */
export const MAX_HOLD_MUSIC_SECONDS = 240;
/** Shorter music makes a function invocation and a Sync read every few seconds per caller. */
export const MIN_HOLD_MUSIC_SECONDS = 3;

/**
 * Audio the service plays: every WAV and MP3 asset must be one Twilio's <Play> plays (WAV of 8-
 * or 16-bit PCM, MP3), and the hold music (HOLD_MUSIC_PATH) must be one of them, in the upload,
 * and of a length the hold loop can use.
 */
export function checkAudio(
  files: DeployFile[],
  projectDir: string,
  holdMusicPath = '/hold-music.wav',
): PreflightResult {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const rel = (file: string) => path.relative(projectDir, file) || file;
  const assets = files.filter((f) => f.kind === 'asset');
  for (const asset of assets.filter((a) => isPlayableAudioName(a.filePath))) {
    const inspected = inspectAudioFile(asset.filePath);
    if (!inspected.ok) refusals.push(`${rel(asset.filePath)} ${inspected.problem}.`);
  }
  const served = holdMusicPath.startsWith('/') ? holdMusicPath : `/${holdMusicPath}`;
  const music = assets.find((a) => a.path === served);
  if (!music) {
    if (assets.length > 0) {
      refusals.push(
        `HOLD_MUSIC_PATH=${holdMusicPath} names no asset of this build: put the file in src/assets (it is served at /<its name>) or fix HOLD_MUSIC_PATH.`,
      );
    }
    return { refusals, warnings };
  }
  if (music.access === 'private') {
    refusals.push(
      `${rel(music.filePath)} is the hold music but deploys as a private asset, which Twilio cannot fetch to play: name it without ".private".`,
    );
  }
  if (!isPlayableAudioName(music.filePath)) {
    const kind = isOtherAudioName(music.filePath) ? `a ${path.extname(music.filePath)} file` : 'not an audio file';
    refusals.push(
      `${rel(music.filePath)} (HOLD_MUSIC_PATH) is ${kind}, and the hold loop needs a WAV (8- or 16-bit PCM) or MP3 file whose length it can read: convert it to 16-bit PCM WAV or to MP3.`,
    );
    return { refusals, warnings };
  }
  const inspected = inspectAudioFile(music.filePath);
  if (!inspected.ok) return { refusals, warnings };
  const seconds = inspected.durationSeconds;
  if (seconds > MAX_HOLD_MUSIC_SECONDS) {
    refusals.push(
      `${rel(music.filePath)} (HOLD_MUSIC_PATH) plays ${seconds.toFixed(1)} s, and the hold loop checks the job once per play: cut it to at most ${MAX_HOLD_MUSIC_SECONDS} s (10-60 s works well).`,
    );
  } else if (seconds < MIN_HOLD_MUSIC_SECONDS) {
    warnings.push(
      `${rel(music.filePath)} (HOLD_MUSIC_PATH) plays only ${seconds.toFixed(1)} s, so each caller on hold costs a function run and a Sync read every ${seconds.toFixed(1)} s: 10 s or more is cheaper.`,
    );
  }
  return { refusals, warnings };
}

export interface FileCheckOptions {
  /** HOLD_MUSIC_PATH of the deploy (default /hold-music.wav). */
  holdMusicPath?: string;
}

/** Twilio's limits on how many functions and assets one build holds. */
function checkCounts(functions: DeployFile[], assets: DeployFile[]): string[] {
  const refusals: string[] = [];
  if (functions.length === 0)
    refusals.push(`There is no function to deploy in the functions folder: run \`npm run build\` first.`);
  if (functions.length > LIMITS.functionVersionsPerBuild.value) {
    refusals.push(
      `The build would hold ${functions.length} functions, over Twilio's ${LIMITS.functionVersionsPerBuild.value} per build: merge some.`,
    );
  }
  const privateAssets = assets.filter((a) => a.access === 'private').length;
  if (privateAssets > LIMITS.privateAssetVersionsPerBuild.value) {
    refusals.push(
      `The build would hold ${privateAssets} private assets, over Twilio's ${LIMITS.privateAssetVersionsPerBuild.value} per build: merge some.`,
    );
  }
  if (assets.length - privateAssets > LIMITS.publicAssetVersionsPerBuild.value) {
    refusals.push(
      `The build would hold ${assets.length - privateAssets} public or protected assets, over Twilio's ${LIMITS.publicAssetVersionsPerBuild.value} per build: remove some.`,
    );
  }
  return refusals;
}

/** Twilio's limits on one file: its size and the length of its URL path. */
function checkSizesAndPaths(files: DeployFile[], rel: (file: string) => string): string[] {
  const refusals: string[] = [];
  for (const file of files) {
    const size = fs.statSync(file.filePath).size;
    if (size > LIMITS.fileBytes.value) {
      refusals.push(
        `${rel(file.filePath)} is ${(size / 1024 / 1024).toFixed(1)} MB, over the ${LIMITS.fileBytes.value / 1024 / 1024} MB Twilio allows per file: make it smaller.`,
      );
    }
    if (file.path.length > LIMITS.pathChars.value) {
      refusals.push(
        `${rel(file.filePath)} would be served at a path of ${file.path.length} characters, over Twilio's ${LIMITS.pathChars.value}: shorten its name or folder.`,
      );
    }
  }
  return refusals;
}

/** The public functions are there and public; every other function is protected; no source maps. */
function checkFunctions(functions: DeployFile[], rel: (file: string) => string): string[] {
  const refusals: string[] = [];
  for (const name of PUBLIC_FUNCTIONS) {
    const fn = functions.find((f) => f.path === name);
    if (functions.length > 0 && !fn)
      refusals.push(
        `The build has no ${name} function, which backends call to finish a job: run \`npm run build\` again.`,
      );
    else if (fn && fn.access !== 'public') {
      refusals.push(
        `${rel(fn.filePath)} deploys ${name} as ${fn.access}, but backends call it without a Twilio signature: name it without ".${fn.access}".`,
      );
    }
  }
  for (const fn of functions) {
    if (fn.access === 'public' && !PUBLIC_FUNCTIONS.includes(fn.path)) {
      refusals.push(
        `${rel(fn.filePath)} deploys ${fn.path} as public, so anyone can call it: name it "${path.basename(fn.filePath, '.js')}.protected.js".`,
      );
    }
    const text = fs.readFileSync(fn.filePath, 'utf8');
    if (/[#@]\s*sourceMappingURL=/.test(text)) {
      refusals.push(
        `${rel(fn.filePath)} points at a source map (sourceMappingURL), which would publish the sources: build without source maps.`,
      );
    }
  }
  return refusals;
}

/** No asset is a file never meant to be public (PRIVATE_ASSET_NAMES). */
function checkAssetNames(assets: DeployFile[], rel: (file: string) => string): string[] {
  const refusals: string[] = [];
  for (const asset of assets) {
    const hit = PRIVATE_ASSET_NAMES.find(({ pattern }) => pattern.test(asset.path));
    if (hit) {
      refusals.push(
        `${rel(asset.filePath)} is ${hit.what} and would be published as ${asset.path}: remove it from the assets folder.`,
      );
    }
  }
  return refusals;
}

export function checkFiles(files: DeployFile[], projectDir: string, options: FileCheckOptions = {}): PreflightResult {
  const audio = checkAudio(files, projectDir, options.holdMusicPath);
  const rel = (file: string) => path.relative(projectDir, file) || file;
  const functions = files.filter((f) => f.kind === 'function');
  const assets = files.filter((f) => f.kind === 'asset');
  const refusals = [
    ...audio.refusals,
    ...checkCounts(functions, assets),
    ...checkSizesAndPaths(files, rel),
    ...checkFunctions(functions, rel),
    ...checkAssetNames(assets, rel),
  ];
  return { refusals, warnings: [...audio.warnings] };
}
