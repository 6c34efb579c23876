/**
 * Regenerates src/assets/hold-music.wav (run: npm run music). The music is synthesized here from
 * sine partials, so the project holds every right to it. The output is deterministic.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HOLD_MUSIC_FILE } from '../dev/paths';
import { HOLD_MUSIC_SAMPLE_RATE, renderHoldMusic } from '../dev/hold-music';
import { encodeWavPcm16Mono, readWavInfo } from '../dev/wav';

export function writeHoldMusic(file: string = HOLD_MUSIC_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeWavPcm16Mono(renderHoldMusic(), HOLD_MUSIC_SAMPLE_RATE));
}

if (require.main === module) {
  writeHoldMusic();
  const info = readWavInfo(HOLD_MUSIC_FILE);
  const bytes = fs.statSync(HOLD_MUSIC_FILE).size;
  console.log(
    `wrote ${path.relative(process.cwd(), HOLD_MUSIC_FILE)}: ${info.durationSeconds.toFixed(2)} s, ` +
      `${info.sampleRate} Hz ${info.bitsPerSample}-bit ${info.formatName} mono, ${(bytes / 1024).toFixed(1)} KiB`,
  );
}
