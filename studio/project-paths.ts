/** Where the project's flows, functions and docs live, from this file's place in the repo. */
import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const FLOWS_DIR = path.join(PROJECT_ROOT, 'flows');
export const FUNCTIONS_DIR = path.join(PROJECT_ROOT, 'src', 'functions');
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
