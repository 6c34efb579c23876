/**
 * Grouped bar charts as plain SVG (no dependencies): panels stacked vertically, each with its
 * own axis (linear or log), optional goal line and a legend.
 */

export interface Bar {
  series: string;
  value: number;
}

export interface Group {
  label: string;
  bars: Bar[];
}

export interface Panel {
  title: string;
  unit: string;
  groups: Group[];
  log?: boolean;
  goal?: { value: number; label: string };
}

const WIDTH = 960;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 62, bottom: 64 };
const PALETTE = ['#2f6db5', '#e07b39', '#3a9a5b', '#b8443f', '#7a5bb5', '#8c8c8c', '#c9a227', '#4bb3c4'];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function format(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 10) return String(Math.round(value));
  return String(Math.round(value * 10) / 10);
}

/** Where a panel's plot stands, its axis ticks, and a value's bar height on its axis. */
interface Plot {
  x0: number;
  y0: number;
  plotW: number;
  plotH: number;
  ticks: number[];
  scale(v: number): number;
}

function plotOf(panel: Panel, values: number[], top: number): Plot {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxValue = Math.max(...values, panel.goal?.value ?? 0, 1);
  const logMin = panel.log
    ? 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...values.filter((v) => v > 0), maxValue))))
    : 0;
  const logMax = panel.log ? 10 ** Math.ceil(Math.log10(maxValue)) : 0;
  const linMax = niceMax(maxValue * 1.05);
  const scale = (v: number) => {
    if (panel.log) {
      const clamped = Math.max(v, logMin);
      return plotH * (Math.log10(clamped / logMin) / Math.log10(logMax / logMin || 10));
    }
    return plotH * (v / linMax);
  };
  const ticks: number[] = [];
  if (panel.log) for (let v = logMin; v <= logMax * 1.0001; v *= 10) ticks.push(v);
  else for (let i = 0; i <= 4; i++) ticks.push((linMax * i) / 4);
  return { x0: MARGIN.left, y0: top + MARGIN.top, plotW, plotH, ticks, scale };
}

/** The grid lines with their values, and the unit up the side. */
function axisSvg(panel: Panel, { x0, y0, plotW, plotH, ticks, scale }: Plot): string[] {
  const parts: string[] = [];
  for (const tick of ticks) {
    const y = y0 + plotH - scale(tick);
    parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(
      `<text x="${x0 - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#555">${format(tick)}</text>`,
    );
  }
  parts.push(
    `<text x="${16}" y="${(y0 + plotH / 2).toFixed(1)}" font-size="11" fill="#555" transform="rotate(-90 16 ${(y0 + plotH / 2).toFixed(1)})" text-anchor="middle">${escape(panel.unit)}${panel.log ? ' (log)' : ''}</text>`,
  );
  return parts;
}

/** Each group's bars (with their values, where there is room) and its label below. */
function barsSvg(panel: Panel, { x0, y0, plotW, plotH, scale }: Plot, color: (name: string) => string): string[] {
  const parts: string[] = [];
  const groupW = plotW / Math.max(1, panel.groups.length);
  panel.groups.forEach((group, gi) => {
    const barW = Math.min(28, (groupW * 0.8) / Math.max(1, group.bars.length));
    const startX = x0 + gi * groupW + (groupW - barW * group.bars.length) / 2;
    group.bars.forEach((bar, bi) => {
      if (!Number.isFinite(bar.value)) return;
      const h = Math.max(1, scale(bar.value));
      const x = startX + bi * barW;
      const y = y0 + plotH - h;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${color(bar.series)}"><title>${escape(`${group.label} / ${bar.series}: ${bar.value}`)}</title></rect>`,
      );
      if (barW >= 16)
        parts.push(
          `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="9" text-anchor="middle" fill="#333">${format(bar.value)}</text>`,
        );
    });
    const lines = group.label.split('\n');
    lines.forEach((line, li) => {
      parts.push(
        `<text x="${(x0 + gi * groupW + groupW / 2).toFixed(1)}" y="${(y0 + plotH + 16 + li * 13).toFixed(1)}" font-size="11" text-anchor="middle" fill="#333">${escape(line)}</text>`,
      );
    });
  });
  return parts;
}

/** The goal as a dashed line, named at the top right. */
function goalSvg(goal: NonNullable<Panel['goal']>, { x0, y0, plotW, plotH, scale }: Plot): string[] {
  const y = y0 + plotH - scale(goal.value);
  return [
    `<line x1="${x0}" x2="${x0 + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#b8443f" stroke-dasharray="6 4"/>`,
    `<text x="${x0 + plotW - 4}" y="${(y0 - 6).toFixed(1)}" font-size="11" text-anchor="end" fill="#b8443f">- - ${escape(goal.label)}</text>`,
  ];
}

function panelSvg(panel: Panel, top: number): string {
  const series = [...new Set(panel.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const color = (name: string) => PALETTE[series.indexOf(name) % PALETTE.length]!;
  const values = panel.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => Number.isFinite(v));
  const plot = plotOf(panel, values, top);
  const { x0, y0, plotW, plotH } = plot;
  return [
    `<text x="${x0}" y="${top + 22}" font-size="15" font-weight="bold">${escape(panel.title)}</text>`,
    ...axisSvg(panel, plot),
    ...barsSvg(panel, plot, color),
    `<line x1="${x0}" x2="${x0 + plotW}" y1="${y0 + plotH}" y2="${y0 + plotH}" stroke="#888"/>`,
    ...(panel.goal ? goalSvg(panel.goal, plot) : []),
    ...legendSvg(series, color, x0, top),
  ].join('\n');
}

/** A swatch and a name per series, in one row above the plot. */
function legendSvg(series: string[], color: (name: string) => string, x0: number, top: number): string[] {
  const parts: string[] = [];
  let lx = x0;
  for (const name of series) {
    parts.push(`<rect x="${lx}" y="${top + 30}" width="11" height="11" fill="${color(name)}"/>`);
    parts.push(`<text x="${lx + 15}" y="${top + 40}" font-size="11" fill="#333">${escape(name)}</text>`);
    lx += 26 + name.length * 6.2;
  }
  return parts;
}

export function renderChart(title: string, subtitle: string, panels: Panel[]): string {
  const height = 60 + panels.length * PANEL_HEIGHT;
  const body = panels.map((panel, i) => panelSvg(panel, 60 + i * PANEL_HEIGHT)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">${escape(title)}</text>`,
    `<text x="20" y="48" font-size="12" fill="#555">${escape(subtitle)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
