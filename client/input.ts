/**
 * Controls from the keyboard (arrows or WASD to turn and thrust, space to fire) and from the on-screen buttons
 * on touch screens, merged into the 4-bit Controls the input codec carries. Keys are tracked by `code`, so WASD
 * stays in place on any keyboard layout.
 */
import { type Controls, FIRE, THRUST, TURN_LEFT, TURN_RIGHT } from '../src/game/sim/controls.ts';

const KEY_BITS: Readonly<Record<string, Controls>> = {
  ArrowUp: THRUST,
  KeyW: THRUST,
  ArrowLeft: TURN_LEFT,
  KeyA: TURN_LEFT,
  ArrowRight: TURN_RIGHT,
  KeyD: TURN_RIGHT,
  Space: FIRE,
};

export class ControlInput {
  private keys = 0;
  private touches = 0;
  private readonly cleanups: (() => void)[] = [];

  constructor(private readonly onChange: (controls: Controls) => void) {
    const down = (event: KeyboardEvent) => {
      if (isTyping(event.target)) return;
      const bit = KEY_BITS[event.code];
      if (bit === undefined) return;
      // Arrows and space would scroll the page or press the focused button.
      event.preventDefault();
      this.set('keys', this.keys | bit);
    };
    const up = (event: KeyboardEvent) => {
      const bit = KEY_BITS[event.code];
      if (bit !== undefined) this.set('keys', this.keys & ~bit);
    };
    // Losing focus mid-press would leave a key "held" forever.
    const blur = () => this.set('keys', 0);
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', blur);
    this.cleanups.push(() => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', blur);
    });
  }

  /** Makes a button act as a held control while pressed (pointer events cover touch, pen and mouse). */
  bindButton(button: HTMLElement, bit: Controls): void {
    const press = (event: PointerEvent) => {
      event.preventDefault();
      button.setPointerCapture?.(event.pointerId);
      button.classList.add('held');
      this.set('touches', this.touches | bit);
    };
    const release = () => {
      button.classList.remove('held');
      this.set('touches', this.touches & ~bit);
    };
    button.addEventListener('pointerdown', press);
    button.addEventListener('pointerup', release);
    button.addEventListener('pointercancel', release);
    button.addEventListener('lostpointercapture', release);
    // A long press would open the context menu on phones.
    button.addEventListener('contextmenu', (event) => event.preventDefault());
  }

  get controls(): Controls {
    return this.keys | this.touches;
  }

  reset(): void {
    this.keys = 0;
    this.touches = 0;
    this.onChange(0);
  }

  dispose(): void {
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups.length = 0;
  }

  private set(which: 'keys' | 'touches', value: number): void {
    const before = this.controls;
    this[which] = value;
    if (this.controls !== before) this.onChange(this.controls);
  }
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
}
