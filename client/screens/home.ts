/**
 * Home: what the game is, the player's name (remembered in localStorage), "Create game", and "Join" with a
 * passcode (filled in from a shared `/?code=ABC123` link); "Join" by invite when the page was opened from an
 * invite link (`/?invite=KEY`), "Watch" when from a watch link. Enter in the name field does the obvious thing
 * (join by invite or watch when offered, join when a passcode is typed, create otherwise). Every
 * failure, from this screen or a game that ended badly, is shown here in one alert, with "Join again" when a
 * fresh token may help and a live countdown when the server asked us to wait.
 */
import { byId } from '../dom.ts';

const NAME_KEY = 'huddle.name';
export const PASSCODE_LENGTH = 6;

export interface HomeActions {
  create(name: string): void;
  join(passcode: string, name: string): void;
  joinInvite(name: string): void;
  watch(name: string): void;
}

export interface HomeError {
  message: string;
  /** Offers a "Join again" button that runs this. */
  rejoin?: () => void;
  /** Keeps Join disabled this many seconds, counting down in the message. */
  waitSeconds?: number;
}

export class HomeScreen {
  private readonly nameInput = byId<HTMLInputElement>('name-input');
  private readonly passcodeInput = byId<HTMLInputElement>('passcode-input');
  private readonly passcodeHint = byId('passcode-hint');
  private readonly createButton = byId<HTMLButtonElement>('create-button');
  private readonly joinButton = byId<HTMLButtonElement>('join-button');
  private readonly inviteCard = byId('invite-card');
  private readonly inviteButton = byId<HTMLButtonElement>('invite-button');
  private readonly watchCard = byId('watch-card');
  private readonly watchButton = byId<HTMLButtonElement>('watch-button');
  private readonly errorBox = byId('home-error');
  private readonly errorText = byId('home-error-text');
  private readonly rejoinButton = byId<HTMLButtonElement>('rejoin-button');
  private rejoin: (() => void) | undefined;
  private waitTimer: ReturnType<typeof setInterval> | undefined;
  private busy = false;

  constructor(private readonly actions: HomeActions) {
    this.nameInput.value = readName();
    const code = new URLSearchParams(location.search).get('code');
    if (code) this.passcodeInput.value = normalizePasscode(code);

    this.nameInput.addEventListener('input', () => this.nameInput.removeAttribute('aria-invalid'));
    this.passcodeInput.addEventListener('input', () => {
      this.passcodeInput.removeAttribute('aria-invalid');
      // A hint shown for a wrong length goes as soon as the length is right.
      if (!this.passcodeHint.hidden && normalizePasscode(this.passcodeInput.value).length === PASSCODE_LENGTH) this.passcodeHint.hidden = true;
    });
    byId('name-form').addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.busy) return;
      if (!this.inviteCard.hidden) this.submitInvite();
      else if (!this.watchCard.hidden) this.submitWatch();
      else if (this.passcodeInput.value.trim()) this.submitJoin();
      else this.submitCreate();
    });
    this.createButton.addEventListener('click', () => this.submitCreate());
    this.watchButton.addEventListener('click', () => this.submitWatch());
    this.inviteButton.addEventListener('click', () => this.submitInvite());
    byId('join-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submitJoin();
    });
    this.rejoinButton.addEventListener('click', () => this.rejoin?.());
  }

  /** Called as the screen appears: the first empty field gets the focus, so Enter does the obvious thing. */
  focus(): void {
    // Opened from an invite: the name field, so Enter joins.
    if (!this.nameInput.value || !this.inviteCard.hidden) this.nameInput.focus();
    else if (!this.watchCard.hidden) this.watchButton.focus();
    else if (this.passcodeInput.value) this.joinButton.focus();
    else byId('home-title').focus();
  }

  /** Shows or hides the "You are invited" card (the page was opened from an invite link). */
  offerInvite(offered: boolean): void {
    this.inviteCard.hidden = !offered;
  }

  /** Shows or hides the "Watch a game" card (the page was opened from a watch link). */
  offerWatch(offered: boolean): void {
    this.watchCard.hidden = !offered;
  }

  get savedName(): string {
    return readName();
  }

  setBusy(busy: boolean, label?: string): void {
    this.busy = busy;
    this.createButton.disabled = busy;
    this.watchButton.disabled = busy;
    this.inviteButton.disabled = busy;
    this.inviteButton.textContent = busy && label === 'invite' ? 'Joining…' : 'Join';
    this.joinButton.disabled = busy || this.waitTimer !== undefined;
    this.createButton.textContent = busy && label === 'create' ? 'Creating…' : 'Create game';
    this.joinButton.textContent = busy && label === 'join' ? 'Joining…' : 'Join';
    this.watchButton.textContent = busy && label === 'watch' ? 'Opening…' : 'Watch';
  }

  showError(error: HomeError): void {
    this.clearError();
    this.errorText.textContent = error.message;
    this.errorBox.hidden = false;
    this.rejoin = error.rejoin;
    this.rejoinButton.hidden = !error.rejoin;
    if (error.waitSeconds) this.startWait(error.message, error.waitSeconds);
  }

  clearError(): void {
    this.errorBox.hidden = true;
    this.errorText.textContent = '';
    this.rejoin = undefined;
    this.rejoinButton.hidden = true;
    clearInterval(this.waitTimer);
    this.waitTimer = undefined;
    this.joinButton.disabled = this.busy;
  }

  private submitCreate(): void {
    const name = this.validName();
    if (name) this.actions.create(name);
  }

  private submitInvite(): void {
    const name = this.validName();
    if (name) this.actions.joinInvite(name);
  }

  private submitWatch(): void {
    const name = this.validName();
    if (name) this.actions.watch(name);
  }

  private submitJoin(): void {
    const name = this.validName();
    if (!name) return;
    const passcode = normalizePasscode(this.passcodeInput.value);
    if (!passcode) {
      this.invalid(this.passcodeInput, 'Type the passcode the host shared (6 characters).');
      return;
    }
    if (passcode.length !== PASSCODE_LENGTH) {
      // Before any request: a wrong length is a typo, not a guess, and deserves a hint rather than "no game".
      this.passcodeHint.textContent = `A passcode has ${PASSCODE_LENGTH} characters; this one has ${passcode.length}.`;
      this.passcodeHint.hidden = false;
      this.passcodeInput.setAttribute('aria-invalid', 'true');
      this.passcodeInput.focus();
      return;
    }
    this.passcodeHint.hidden = true;
    this.actions.join(passcode, name);
  }

  private startWait(message: string, seconds: number): void {
    const until = Date.now() + seconds * 1000;
    this.joinButton.disabled = true;
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(this.waitTimer);
        this.waitTimer = undefined;
        this.joinButton.disabled = this.busy;
        this.errorText.textContent = 'You can try again now.';
        return;
      }
      this.errorText.textContent = message.replace(/\d+ s\b/, `${left} s`);
    };
    this.waitTimer = setInterval(tick, 1000);
  }

  private validName(): string | undefined {
    const name = this.nameInput.value.trim();
    if (!name) {
      this.invalid(this.nameInput, 'Type your name first: it is what the others see.');
      return undefined;
    }
    try {
      localStorage.setItem(NAME_KEY, name);
    } catch {
      // Private browsing may refuse storage; the name just is not remembered.
    }
    return name;
  }

  private invalid(input: HTMLInputElement, message: string): void {
    input.setAttribute('aria-invalid', 'true');
    this.showError({ message });
    input.focus();
  }
}

function readName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

/** As the server reads passcodes (docs/API.md): case-insensitive, I/L are 1, O is 0, spaces and dashes ignored. */
export function normalizePasscode(text: string): string {
  return text
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
}
