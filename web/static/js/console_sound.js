// The console's sound alerts: a tone for a new call (three for a high NEWS2), switched on
// by the clinician and remembered for them in this browser. Browsers let a page make
// sound only after a click or a key press, so after a reload the remembered choice is
// armed by the first one anywhere on the page, and the button says so.

export class SoundAlerts {
  constructor(button, userId) {
    this.button = button;
    this.key = `telehub.soundAlerts.${userId}`;
    this.audio = null;
    button.addEventListener("click", () => this._toggle());
  }

  /** A tone if sound alerts are on (three, higher, for a high NEWS2). */
  beep(high = false) {
    if (this.audio) beep(this.audio, high);
  }

  /** Turn the remembered choice back on, or arm it for the first click or key press. */
  restore() {
    if (localStorage.getItem(this.key) !== "on") return;
    this.audio = new AudioContext();
    if (this.audio.state === "running") return this._on(); // the browser allows it already
    this._show("armed", "Sound alerts: click anywhere to turn them back on");
    const arm = () => {
      document.removeEventListener("pointerdown", arm, true);
      document.removeEventListener("keydown", arm, true);
      this.audio?.resume().then(() => this.audio && this._on()).catch(() => {});
    };
    document.addEventListener("pointerdown", arm, true);
    document.addEventListener("keydown", arm, true);
  }

  _toggle() {
    if (this.button.dataset.state === "on") {
      this.audio?.close().catch(() => {});
      this.audio = null;
      localStorage.removeItem(this.key);
      this._show("off", "Enable sound alerts");
      return;
    }
    // Browsers only let a page make sound after a click: this is that click.
    this._on();
    this.audio.resume?.().catch(() => {});
    beep(this.audio, false);
    localStorage.setItem(this.key, "on");
  }

  _on() {
    this.audio ??= new AudioContext();
    this._show("on", "Sound alerts on");
  }

  _show(state, text) {
    this.button.dataset.state = state;
    this.button.textContent = text;
    this.button.title = state === "on" ? "Click to turn sound alerts off" : "";
  }
}

/** A short tone through the page's AudioContext (created on the user's click). */
export function beep(audio, high) {
  audio.resume?.();
  const now = audio.currentTime;
  const count = high ? 3 : 1;
  for (let i = 0; i < count; i++) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = high ? "square" : "sine";
    osc.frequency.value = high ? 880 : 660;
    const start = now + i * 0.4;
    const length = high ? 0.3 : 0.2;
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(high ? 0.5 : 0.2, start + 0.02);
    gain.gain.linearRampToValueAtTime(0, start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + length + 0.05);
  }
}
