// Tearing a call down, step by step (no DOM code). A page that learns a call is over
// tells the person first and lets go of the connections after; each step that throws (a
// connection already gone, a browser quirk) is logged and the rest still run. Thrown
// inside a message handler, it would otherwise be swallowed there (signalling.js logs
// and carries on) and leave the screen where it was: a tablet still "in the call" that
// the clinician has ended.

/** Run each step; an exception is logged (console.error) and does not stop the next. */
export function letGo(...steps) {
  const failed = [];
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      failed.push(err);
      console.error("letting go of the call:", err);
    }
  }
  return failed;
}
