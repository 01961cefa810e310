import { connectHost } from './host/ap';
import { start } from './start';

/**
 * Entry of every Tally page in the Connect app. The server rendered `views/page.html` with the page name and a
 * 15-minute session token in meta tags; Bitbucket's one-time `jwt` is dropped from the address at once (the
 * first writeUrlQuery) so it is never copied or re-used.
 */
start(connectHost());
