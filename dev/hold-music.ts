/**
 * Synthesizes the hold music: a calm 10-second loop of four soft pad chords
 * (Cmaj7 - Am7 - Fmaj7 - G) with a slow bell line, made only from sine partials.
 *
 * Everything is rendered into a circular buffer: a note whose release runs past the end of the
 * loop continues at its start. Pad oscillators run on the loop's clock with frequencies rounded to
 * whole cycles per loop, so a note held across a chord change (or across the loop point) stays in
 * phase with itself. The signal is exactly periodic and the loop has no seam.
 * Voicings sit mostly inside the telephone band (300-3400 Hz) and no partial exceeds 3.4 kHz,
 * well below the 4 kHz Nyquist limit of 8 kHz audio.
 */

export const HOLD_MUSIC_SAMPLE_RATE = 8000;
const BEAT_SECONDS = 0.625; // 96 bpm
const BAR_SECONDS = 4 * BEAT_SECONDS;
export const HOLD_MUSIC_SECONDS = 4 * BAR_SECONDS; // 10 s: the hold loop re-checks the job once per pass
const PEAK_LEVEL = 0.45; // about -7 dBFS: hold music should sit quietly under the line
const MAX_PARTIAL_HZ = 3400;

/** MIDI note numbers; 60 is middle C. */
const CHORDS: { root: number; tones: number[] }[] = [
  { root: 48, tones: [60, 64, 67, 71] }, // Cmaj7
  { root: 45, tones: [60, 64, 67, 69] }, // Am7 (close voicing, moves one note)
  { root: 41, tones: [60, 65, 69, 76] }, // Fmaj7
  { root: 43, tones: [62, 67, 71, 74] }, // G, leads back to C at the loop point
];

/** The bell line: [beat, MIDI note], two notes per bar. */
const BELL_LINE: [number, number][] = [
  [0, 76],
  [2, 74], // over C: E5, D5
  [4, 72],
  [6, 76], // over Am: C5, E5
  [8, 81],
  [10, 79], // over F: A5, G5
  [12, 74],
  [14, 71], // over G: D5, B4
];

function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** Rounds to a whole number of cycles per loop (a shift of at most 0.05 Hz, far below hearing). */
function loopAligned(hz: number): number {
  return Math.round(hz * HOLD_MUSIC_SECONDS) / HOLD_MUSIC_SECONDS;
}

/** 0 -> 1 with zero slope at both ends, so envelopes never click. */
function smoothRise(x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return 0.5 - 0.5 * Math.cos(Math.PI * x);
}

/** Sum of harmonic partials (relative amplitudes), skipping any above the telephone band. */
function harmonicTone(hz: number, partials: number[], t: number): number {
  let value = 0;
  partials.forEach((amplitude, index) => {
    const partialHz = hz * (index + 1);
    if (partialHz <= MAX_PARTIAL_HZ) value += amplitude * Math.sin(2 * Math.PI * partialHz * t);
  });
  return value;
}

interface Voice {
  startSeconds: number;
  lengthSeconds: number;
  /** Sample value at `t` seconds after the voice starts; `clock` is seconds since the loop start. */
  render(t: number, clock: number): number;
}

function padVoice(note: number, startSeconds: number, level: number): Voice {
  const hz = midiToHz(note);
  const attack = 0.9;
  const hold = BAR_SECONDS;
  const release = 1.3;
  const detune = 2 ** (1.5 / 1200); // +-1.5 cents: a slow, gentle shimmer
  const sharp = loopAligned(hz * detune);
  const flat = loopAligned(hz / detune);
  return {
    startSeconds,
    lengthSeconds: hold + release,
    render(t, clock) {
      const envelope = smoothRise(t / attack) * (1 - smoothRise((t - hold) / release));
      const tone = harmonicTone(sharp, [1, 0.22, 0.06], clock) + harmonicTone(flat, [1, 0.22, 0.06], clock);
      return level * envelope * tone * 0.5;
    },
  };
}

function bellVoice(note: number, startSeconds: number, level: number): Voice {
  const hz = midiToHz(note);
  const length = 2.4;
  return {
    startSeconds,
    lengthSeconds: length,
    render(t) {
      const attack = smoothRise(t / 0.012);
      const fadeOut = 1 - smoothRise((t - (length - 0.4)) / 0.4); // reach exactly 0 at the end
      const body = Math.exp(-t / 0.75) * Math.sin(2 * Math.PI * hz * t);
      const shimmer = 0.18 * Math.exp(-t / 0.25) * (hz * 3 <= MAX_PARTIAL_HZ ? Math.sin(2 * Math.PI * hz * 3 * t) : 0);
      return level * attack * fadeOut * (body + shimmer);
    },
  };
}

function composition(): Voice[] {
  const voices: Voice[] = [];
  CHORDS.forEach((chord, bar) => {
    const start = bar * BAR_SECONDS;
    for (const tone of chord.tones) voices.push(padVoice(tone, start, 0.1));
    voices.push(padVoice(chord.root, start, 0.12)); // soft bass; its harmonics carry it over a phone
  });
  for (const [beat, note] of BELL_LINE) voices.push(bellVoice(note, beat * BEAT_SECONDS, 0.16));
  return voices;
}

/** Renders the loop as mono 16-bit samples at HOLD_MUSIC_SAMPLE_RATE. Deterministic. */
export function renderHoldMusic(): Int16Array {
  const rate = HOLD_MUSIC_SAMPLE_RATE;
  const length = Math.round(HOLD_MUSIC_SECONDS * rate);
  const mix = new Float64Array(length);
  for (const voice of composition()) {
    const first = Math.round(voice.startSeconds * rate);
    const count = Math.round(voice.lengthSeconds * rate);
    for (let i = 0; i < count; i++) {
      const index = (first + i) % length; // wraps: the tail continues at the top
      mix[index] += voice.render(i / rate, index / rate);
    }
  }
  let peak = 0;
  for (const value of mix) peak = Math.max(peak, Math.abs(value));
  const gain = peak > 0 ? (PEAK_LEVEL * 32767) / peak : 0;
  return Int16Array.from(mix, (value) => Math.round(value * gain));
}
