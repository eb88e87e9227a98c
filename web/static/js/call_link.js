// How a call judges its link, with no DOM (unit-tested: tests/js/call_link.test.mjs):
// when to step down to audio only and back up (AudioOnlySteps, fed the quality monitor's
// levels every 2 s), and when the link has just come back after an outage (OutageWatch,
// fed the count of packets received every 250 ms). call.js acts on their answers.

const MAX_BACKOFF = 8; // a link that stays weak: a try at video every 160 s at most
const OUTAGE_MS = 1000; // no packet at all for this long: an outage, not a gap

/** When a call steps down to audio only by itself, and back up: given each monitor
 *  sample's level, "down", "up" or null. Down: none of the last `stepDownAfter` samples
 *  good, most of them poor (not all poor in a row: on a weak link samples swing between
 *  poor and fair, e.g. a 150 kbit/s cap's bandwidth estimate around the 150k line, so
 *  such a run may never come). Up, from its own step down only: `stepUpAfter` good in a
 *  row. Audio alone fits where video did not, so that is only a try: one that does not
 *  hold (down again within twice the step-down window) doubles the wait for the next,
 *  up to MAX_BACKOFF times; video that holds, or a person's choice, resets it. */
export class AudioOnlySteps {
  constructor() {
    this.backoff = 1;
    this._recent = []; // the last levels since the call last changed mode
    this._good = 0; // good levels in a row
    this._sinceUp = null; // samples since an automatic step up (null: none on trial)
  }

  next(level, { audioOnly, autoAudioOnly }, { stepDownAfter, stepUpAfter }) {
    this._recent = [...this._recent, level].slice(-stepDownAfter);
    this._good = level === "good" ? this._good + 1 : 0;
    if (audioOnly) {
      if (!autoAudioOnly || this._good < stepUpAfter * this.backoff) return null;
      this._sinceUp = 0; // video on trial from now
      return "up";
    }
    if (this._sinceUp !== null && ++this._sinceUp >= 2 * stepDownAfter) {
      this.backoff = 1; // the last step up held
      this._sinceUp = null;
    }
    const poor = this._recent.filter((l) => l === "poor").length;
    if (this._recent.length < stepDownAfter || this._recent.includes("good") || 2 * poor <= stepDownAfter) return null;
    if (this._sinceUp !== null) this.backoff = Math.min(2 * this.backoff, MAX_BACKOFF); // it did not
    this._sinceUp = null;
    return "down";
  }

  /** The call changed mode: count afresh. A person's choice also ends any trial and
   *  back-off; an automatic step up starts a trial. */
  restart({ byPerson }) {
    this._recent = [];
    this._good = 0;
    if (byPerson) {
      this.backoff = 1;
      this._sinceUp = null;
    }
  }
}

/** The link coming back after an outage (a Wi-Fi dead spot): no packet received for
 *  OUTAGE_MS or more, then packets again. A live call receives ~50 packets a second even
 *  with nothing to show (audio, silence included), so a second without any is an
 *  outage; before the first packet there is nothing to lose, so no outage counts. */
export class OutageWatch {
  constructor(outageMs = OUTAGE_MS) {
    this.outageMs = outageMs;
    this._received = null; // the last count seen
    this._silentSince = null; // when the count last stopped moving (null: it moves)
  }

  /** The count of packets received at `now` (ms): true once, when packets arrive
   *  again after an outage. */
  back(now, received) {
    if (received === this._received) {
      if (received > 0) this._silentSince ??= now;
      return false;
    }
    const silentSince = this._silentSince;
    this._received = received;
    this._silentSince = null;
    return silentSince !== null && now - silentSince >= this.outageMs;
  }
}
