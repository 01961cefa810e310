/** Client-side downloads: CSV text and PNG renderings of a chart's SVG, both as blob URLs (CSP allows blob:). */

export function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadCsv(filename: string, csv: string): void {
  // A BOM so spreadsheet programs read the names as UTF-8.
  downloadBlob(filename, new Blob(['\uFEFF', csv], { type: 'text/csv;charset=utf-8' }));
}

const INLINED = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'text-anchor',
  'dominant-baseline',
  'visibility',
];

/** A standalone copy of the SVG: computed styles written as attributes, since CSS variables do not travel. */
function standaloneSvg(svg: SVGSVGElement): { markup: string; width: number; height: number } {
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...svg.querySelectorAll('*')];
  const copies = [clone, ...clone.querySelectorAll('*')];
  originals.forEach((original, i) => {
    const style = getComputedStyle(original);
    const copy = copies[i] as Element;
    for (const prop of INLINED) {
      const value = style.getPropertyValue(prop);
      if (value) copy.setAttribute(prop, value);
    }
  });
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  return { markup: new XMLSerializer().serializeToString(clone), width, height };
}

export interface PngOptions {
  title: string;
  subtitle?: string;
  legend?: { name: string; color: string }[];
  background: string;
  text: string;
  subtle: string;
}

/** The chart as a PNG at twice the screen resolution, with its title and legend drawn above it. */
export async function svgToPng(svg: SVGSVGElement, options: PngOptions): Promise<Blob> {
  const { markup, width, height } = standaloneSvg(svg);
  const scale = 2;
  const padding = 16;
  const legendRows = options.legend && options.legend.length > 0 ? 1 : 0;
  const header = 28 + (options.subtitle ? 18 : 0) + legendRows * 22;
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil((width + padding * 2) * scale);
  canvas.height = Math.ceil((height + header + padding * 2) * scale);
  const ctx = canvas.getContext('2d')!;
  ctx.scale(scale, scale);
  ctx.fillStyle = options.background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const font = getComputedStyle(document.body).fontFamily;
  ctx.fillStyle = options.text;
  ctx.font = `600 16px ${font}`;
  ctx.fillText(options.title, padding, padding + 14);
  let y = padding + 28;
  if (options.subtitle) {
    ctx.fillStyle = options.subtle;
    ctx.font = `400 12px ${font}`;
    ctx.fillText(options.subtitle, padding, y + 2);
    y += 18;
  }
  if (legendRows) {
    let x = padding;
    ctx.font = `400 12px ${font}`;
    for (const item of options.legend!) {
      ctx.fillStyle = item.color;
      ctx.fillRect(x, y - 4, 10, 10);
      ctx.fillStyle = options.text;
      ctx.fillText(item.name, x + 14, y + 5);
      x += 24 + ctx.measureText(item.name).width;
      if (x > width) break;
    }
    y += 22;
  }
  const url = URL.createObjectURL(new Blob([markup], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const image = new Image();
    image.decoding = 'sync';
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error('The chart could not be rendered as an image.'));
      image.src = url;
    });
    ctx.drawImage(image, padding, y, width, height);
  } finally {
    URL.revokeObjectURL(url);
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'),
  );
}
