/**
 * The few DOM helpers the screens share. No framework: the screens are small, change rarely, and plain DOM keeps
 * the bundle tiny and the test hooks (`data-testid`) obvious.
 */

/** The element with this id; a missing one is a bug in index.html, so it throws at start rather than later. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

type Attributes = Record<string, string | number | boolean | undefined>;

/** A new element with attributes (false/undefined skipped) and text or child nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** "4:07" for a count of seconds (rounded up, so the display reaches 0:00 only at the end). */
export function clock(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** Copies text; falls back to a selected input and execCommand where the Clipboard API is unavailable (plain http). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const input = el('textarea', { 'aria-hidden': 'true', class: 'offscreen' }, text);
    document.body.append(input);
    input.select();
    const ok = document.execCommand('copy');
    input.remove();
    return ok;
  }
}

/** A countdown that keeps running between the server's updates: set it when told, read it any time. */
export class LocalTimer {
  private seconds = 0;
  private at = 0;

  set(seconds: number, now = performance.now() / 1000): void {
    this.seconds = seconds;
    this.at = now;
  }

  /** Sets only when the told value changed, so repeated updates do not jump the clock back. */
  update(seconds: number, now = performance.now() / 1000): void {
    if (seconds !== this.told) {
      this.told = seconds;
      this.set(seconds, now);
    }
  }

  left(now = performance.now() / 1000): number {
    return Math.max(0, this.seconds - (now - this.at));
  }

  private told = Number.NaN;
}
