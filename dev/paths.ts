import fs from 'node:fs';
import path from 'node:path';

/** Absolute paths of the project's folders and files, independent of the caller's cwd: the one PROJECT_ROOT. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const FUNCTIONS_SRC_DIR = path.join(PROJECT_ROOT, 'src', 'functions');
export const ASSETS_SRC_DIR = path.join(PROJECT_ROOT, 'src', 'assets');
export const DIST_DIR = path.join(PROJECT_ROOT, 'dist');
export const FUNCTIONS_DIST_DIR = path.join(DIST_DIR, 'functions');
export const ASSETS_DIST_DIR = path.join(DIST_DIR, 'assets');
export const HOLD_MUSIC_FILE = path.join(ASSETS_SRC_DIR, 'hold-music.wav');
export const USER_ENV_FILE = path.join(PROJECT_ROOT, '.env');
export const LOCAL_ENV_FILE = path.join(PROJECT_ROOT, '.local', '.env');
export const TWILIO_RUN_BIN = path.join(PROJECT_ROOT, 'node_modules', 'twilio-run', 'bin', 'twilio-run.js');
export const FLOWS_DIR = path.join(PROJECT_ROOT, 'flows');
export const FLOWS_DOC = path.join(PROJECT_ROOT, 'docs', 'FLOWS.md');
export const README = path.join(PROJECT_ROOT, 'README.md');

/** The project's flow files (`flows/*.json`, not the `*.scenarios.json` kept beside them), sorted. */
export function projectFlowFiles(): string[] {
  if (!fs.existsSync(FLOWS_DIR)) return [];
  return fs
    .readdirSync(FLOWS_DIR)
    .filter((name) => name.endsWith('.json') && !name.endsWith('.scenarios.json'))
    .sort()
    .map((name) => path.join(FLOWS_DIR, name));
}
