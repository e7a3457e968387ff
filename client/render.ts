/**
 * Canvas drawing: the arena from an interpolated frame, or the empty field before the first one. The field keeps its
 * 16:10 shape and scales to the canvas; the backing store follows devicePixelRatio so lines stay sharp on phones.
 */
import { ROCK_KINDS } from '../src/game/sim/rock.ts';
import { SHIP_RADIUS } from '../src/game/sim/ship.ts';
import { FIELD_HEIGHT, FIELD_WIDTH } from '../src/game/sim/space.ts';
import type { ArenaFrame, FrameShip } from './arena-feed.ts';

/** One colour per slot, distinguishable on the dark field and for the common colour-vision deficiencies. */
export const PLAYER_COLORS = ['#ffb000', '#44c4ff', '#ff6b9a', '#8be06b', '#c39bff', '#ff8a3d', '#3ee0c6', '#f2f2f2'] as const;

export function playerColor(slot: number): string {
  return PLAYER_COLORS[slot % PLAYER_COLORS.length] ?? '#ffffff';
}

/** Sizes the canvas's backing store to its CSS box; returns the 2D context ready to draw in CSS pixels. */
export function prepareCanvas(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } | undefined {
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, width, height };
}

const BACKGROUND = '#0b1020';
const LABEL_GAP = 14;

/** Fixed stars in field coordinates (a cheap hash, so every client shows the same sky). */
const STARS = Array.from({ length: 90 }, (_, i) => ({ x: ((i * 7919) % 1600) / 1600, y: ((i * 104729) % 1000) / 1000, r: (i % 3) * 0.4 + 0.4 }));

/** The field with no ships yet: from the first countdown frame, and while a rejoin waits for its first snapshot. */
export function drawEmptyField(canvas: HTMLCanvasElement): void {
  const prepared = prepareCanvas(canvas);
  if (!prepared) return;
  const { ctx, width, height } = prepared;
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#33405f';
  for (const star of STARS) ctx.fillRect(star.x * width, star.y * height, star.r, star.r);
}

export function drawArena(canvas: HTMLCanvasElement, frame: ArenaFrame, you: number | undefined, names: ReadonlyMap<number, string>): void {
  const prepared = prepareCanvas(canvas);
  if (!prepared) return;
  const { ctx, width, height } = prepared;
  const scale = Math.min(width / FIELD_WIDTH, height / FIELD_HEIGHT);
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#33405f';
  for (const star of STARS) ctx.fillRect(star.x * width, star.y * height, star.r, star.r);

  ctx.lineWidth = 1.5;
  ctx.strokeStyle = '#b9c2d6';
  for (const rock of frame.rocks) {
    const radius = (ROCK_KINDS[rock.size as 0 | 1 | 2]?.radius ?? ROCK_KINDS[0].radius) * scale;
    drawWrapped(rock.x * scale, rock.y * scale, radius, width, height, (x, y) => drawRock(ctx, x, y, radius, rock.id));
  }
  for (const bullet of frame.bullets) {
    ctx.fillStyle = playerColor(bullet.owner);
    ctx.beginPath();
    ctx.arc(bullet.x * scale, bullet.y * scale, Math.max(1.5, 2.5 * (width / 1000)), 0, Math.PI * 2);
    ctx.fill();
  }
  const shipRadius = Math.max(6, SHIP_RADIUS * scale);
  for (const ship of frame.ships) {
    if (ship.status === 2) continue;
    const label = names.get(ship.slot) ?? `P${ship.slot + 1}`;
    // The label hangs below the ship, so it takes part in the wrap as far down as it reaches.
    drawWrapped(ship.x * scale, ship.y * scale, shipRadius + LABEL_GAP, width, height, (x, y) => {
      drawShip(ctx, x, y, shipRadius, ship, ship.slot === you, frame.tick);
      ctx.fillStyle = playerColor(ship.slot);
      ctx.font = `${Math.max(10, Math.round(width / 90))}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.fillText(label, x, y + shipRadius + LABEL_GAP);
    });
  }
}

/** Draws something near an edge a second time on the far side, so it slides across the wrap instead of popping. */
function drawWrapped(x: number, y: number, radius: number, width: number, height: number, draw: (x: number, y: number) => void): void {
  const xs = [x, ...(x < radius ? [x + width] : x > width - radius ? [x - width] : [])];
  const ys = [y, ...(y < radius ? [y + height] : y > height - radius ? [y - height] : [])];
  for (const px of xs) for (const py of ys) draw(px, py);
}

function drawRock(ctx: CanvasRenderingContext2D, x: number, y: number, radius: number, id: number): void {
  // A lumpy outline fixed by the id, so a rock keeps its shape from frame to frame.
  const points = 9;
  ctx.beginPath();
  for (let i = 0; i < points; i++) {
    const wobble = 0.78 + (((id * 31 + i * 17) % 7) / 7) * 0.3;
    const a = (i / points) * Math.PI * 2;
    const px = x + Math.cos(a) * radius * wobble;
    const py = y + Math.sin(a) * radius * wobble;
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.closePath();
  ctx.fillStyle = '#1c2438';
  ctx.fill();
  ctx.stroke();
}

function drawShip(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, ship: FrameShip, own: boolean, tick: number): void {
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate(ship.angle);
  const color = playerColor(ship.slot);
  if (ship.thrusting) {
    ctx.fillStyle = '#ff7a1a';
    ctx.beginPath();
    ctx.moveTo(-r * 0.7, -r * 0.35);
    ctx.lineTo(-r * (1.3 + 0.3 * Math.sin(tick * 2)), 0);
    ctx.lineTo(-r * 0.7, r * 0.35);
    ctx.fill();
  }
  ctx.beginPath();
  ctx.moveTo(r, 0);
  ctx.lineTo(-r * 0.8, -r * 0.7);
  ctx.lineTo(-r * 0.5, 0);
  ctx.lineTo(-r * 0.8, r * 0.7);
  ctx.closePath();
  ctx.fillStyle = own ? color : BACKGROUND;
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.fill();
  ctx.stroke();
  ctx.restore();
  if (ship.status === 1 && Math.floor(tick / 4) % 2 === 0) {
    // Shielded after a respawn: a blinking ring.
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(x, y, r * 1.6, 0, Math.PI * 2);
    ctx.stroke();
  }
}
