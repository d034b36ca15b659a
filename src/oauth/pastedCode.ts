import { judgeCallback, type CallbackExpectations } from './loopbackListener.js';
import { OAuthFlowError } from '../shared/errors.js';

/** Where `gateway auth login --paste` reads what the user pastes, and says what is wrong with it. */
export interface PasteReader {
  /** The next pasted line, after showing `prompt`; undefined when the input ended. */
  read(prompt: string): Promise<string | undefined>;
  say(message: string): Promise<void>;
}

/**
 * Reads pasted redirect addresses until one is this login's (the same checks as the loopback
 * listener's: state, iss, error); a wrong or stale one is refused with why.
 */
export async function readPastedCode(
  paste: PasteReader,
  expect: CallbackExpectations,
): Promise<{ code: string; pasted: true; finish: () => Promise<void> }> {
  for (;;) {
    const text = (await paste.read('Paste the full address your browser ended on (http://127.0.0.1:…/callback?…): '))?.trim();
    if (text === undefined) throw new OAuthFlowError('paste_ended', 'the input ended before an address was pasted');
    if (!text) continue;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      await paste.say("That is not an address. Copy the whole address from the browser's address bar, starting with http://127.0.0.1.");
      continue;
    }
    const verdict = judgeCallback(url.searchParams, expect);
    if (verdict.kind === 'fail') throw verdict.error;
    if (verdict.kind === 'reject') {
      await paste.say(`Refused: ${verdict.reason} Paste the address from the login you just approved (or press Ctrl-C).`);
      continue;
    }
    return { code: verdict.code, pasted: true, finish: async () => {} };
  }
}
