import path from 'node:path';

/** Absolute paths of the project's folders, independent of the caller's cwd. */
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
